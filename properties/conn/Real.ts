/**
 * The real side of the model run: an AltsConn with the native reader on one end of a real
 * AF_UNIX socketpair, a BufferPool, and a raw peer (its own record layer) on the other end whose
 * writes are synchronous write(2)s. Built from parts (not wrapFd) so the broken-variant tests can
 * wrap the reader or the pool; the parts are the real ones.
 */
import { AltsConn } from '../../src/conn/AltsConn.js';
import { createCrypters } from '../../src/crypto/index.js';
import type { RecordProtocol } from '../../src/crypto/types.js';
import { NativeReader } from '../../src/io/NativeReader.js';
import type { ReadyReader } from '../../src/io/types.js';
import { loadNative, type ReadyHandle } from '../../src/native.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { FRAME_OVERHEAD, LENGTH_FIELD_BYTES, MESSAGE_TYPE, MIN_FRAME_LENGTH, TYPE_FIELD_BYTES } from '../../src/record/constants.js';
import { sealFrames } from '../../src/record/frame.js';
import type { ModelConfig, ReadOutcome } from '../../model/types.js';

export const native = loadNative();
export const PROTOCOL: RecordProtocol = 'ALTSRP_GCM_AES128_REKEY';

/** The key every run uses (44 bytes for the rekey protocol); docs/corpus records it in hex. */
export function runKey(protocol: RecordProtocol = PROTOCOL): Uint8Array {
  const key = new Uint8Array(protocol === 'ALTSRP_GCM_AES128' ? 16 : 44);
  for (let i = 0; i < key.length; i++) key[i] = (i * 37 + 11) & 0xff;
  return key;
}

/** Plaintext of frame group `seq`: deterministic, so model and real (and the corpus) agree. */
export function plaintextFor(n: number, seq: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seq + 1) * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** The peer's record layer: frames the conn accepts; an empty plaintext makes one empty frame (len = 20). */
export interface PeerSealer {
  protect(plaintext: Uint8Array): Uint8Array;
}

/** The peer's sealing side (side 'server'). Writers never send empty frames, but a peer may. */
export function peerSealer(maxFrameSize: number, key: Uint8Array = runKey()): PeerSealer {
  const out = createCrypters({ protocol: PROTOCOL, side: 'server', key }).outbound;
  return {
    protect(p) {
      if (p.length > 0) return sealFrames(out, p, maxFrameSize);
      const f = new Uint8Array(FRAME_OVERHEAD);
      new DataView(f.buffer).setUint32(0, MIN_FRAME_LENGTH, true);
      new DataView(f.buffer).setUint32(LENGTH_FIELD_BYTES, MESSAGE_TYPE, true);
      out.seal(f, LENGTH_FIELD_BYTES + TYPE_FIELD_BYTES, 0);
      return f;
    },
  };
}

export interface RealRead {
  into: Uint8Array;
  promise: Promise<void>;
  outcome: ReadOutcome;
}

/** Hooks for the broken-variant tests: wrap the reader or the pool the conn sees. */
export interface Tamper {
  reader?: (r: ReadyReader, real: Real) => ReadyReader;
  pool?: (p: BufferPool, real: Real) => BufferPool;
}

export class Real {
  readonly conn: AltsConn;
  readonly pool: BufferPool;
  readonly peer: PeerSealer;
  readonly peerHandle: ReadyHandle;
  /** Protected bytes the peer queued, and how many of them are on the wire. */
  wire: number[] = [];
  sent = 0;
  readonly reads: RealRead[] = [];
  readonly delivered: number[] = [];
  readonly hogs: Uint8Array[] = [];
  /** Readiness callbacks the reader gave the conn (to see spinning). */
  readinessCallbacks = 0;
  /** Non-spurious wakeups that read 0 (EOF). */
  eofWakeups = 0;
  seq = 0;

  constructor(cfg: ModelConfig, tamper: Tamper = {}) {
    const key = runKey();
    this.pool = new BufferPool(cfg.budget === Infinity ? {} : { budget: cfg.budget });
    const [a, b] = native.socketpair();
    const real = new NativeReader(native, a);
    const counting: ReadyReader = new Proxy(real, {
      set: (t, prop, value) => {
        if (prop === 'onReadable') {
          const f = value as () => void;
          t.onReadable = () => {
            this.readinessCallbacks++;
            f();
          };
          return true;
        }
        return Reflect.set(t, prop, value);
      },
      get: (t, prop) => {
        const v = Reflect.get(t, prop, t);
        return typeof v === 'function' ? v.bind(t) : v;
      },
    });
    const reader = tamper.reader ? tamper.reader(counting, this) : counting;
    const pool = tamper.pool ? tamper.pool(this.pool, this) : this.pool;
    const { inbound, outbound } = createCrypters({ protocol: PROTOCOL, side: 'client', key });
    this.conn = new AltsConn({ reader, pool, inbound, outbound, maxFrameSize: 16384, readSize: cfg.readSize });
    this.conn.on('wakeup', (w: { spurious: boolean; bytes: number }) => {
      if (!w.spurious && w.bytes === 0) this.eofWakeups++;
    });
    this.peer = peerSealer(cfg.maxFrameSize, key);
    this.peerHandle = new native.ReadyHandle(b, () => {});
  }

  queue(bytes: Uint8Array): void {
    for (const x of bytes) this.wire.push(x);
  }

  /** One synchronous write(2) loop: when it returns the bytes are in the conn's receive queue. */
  send(n: number): void {
    const chunk = new Uint8Array(this.wire.slice(this.sent, this.sent + n));
    let off = 0;
    while (off < chunk.length) {
      const k = this.peerHandle.write(chunk, off, chunk.length - off);
      if (k < 0) throw new Error(`peer write failed: ${k}`);
      off += k;
    }
    this.sent += chunk.length;
  }

  read(n: number): void {
    const into = new Uint8Array(n);
    const r: RealRead = { into, outcome: { status: 'pending' }, promise: Promise.resolve() };
    this.reads.push(r);
    r.promise = this.conn.read(into).then(
      (k) => {
        r.outcome = k === 0 ? { status: 'eof' } : { status: 'ok', n: k };
        for (let i = 0; i < k; i++) this.delivered.push(into[i]!);
      },
      (e: { code?: string }) => {
        r.outcome = { status: 'error', code: (e.code ?? String(e)) as 'CLOSED' };
      },
    );
  }

  dispose(): void {
    this.conn.close();
    for (const h of this.hogs.splice(0)) this.pool.put(h);
    if (!this.peerHandle.closed) this.peerHandle.close();
  }
}
