/**
 * The state of the model of one connection's read side (docs/spec.md §2, §3): plain data, what
 * is derived from it, the peer's stream and the kernel's read(2). The rules that move it are in
 * PoolModel.ts (the pool), ReadsModel.ts (handing up) and ConnModel.ts (readiness, endings);
 * nothing is imported from src/.
 *
 * The peer's stream is a list of frames (plaintext, authenticates or not, bytes on the wire) and
 * byte cursors: `written` (queued by the peer), `sent` (in the kernel for the conn), `consumed`
 * (read(2) by the conn). The conn's one buffer is {cap, start, end}: protected bytes not yet
 * handed up are [start, end) and are the stream's bytes [consumed - (end - start), consumed).
 * No crypto is needed: a frame's plaintext is known, and `ok` says whether its tag verifies.
 * @module
 */
import { FRAME_OVERHEAD, LENGTH_FIELD, splitPayloads } from './rules.js';
import type { ConnState, ModelConfig, ModelErrorCode, ModelEvent, PeerFrame, ReadOutcome } from './types.js';

/** What the caller, the peer, the pool's other holders and the test hooks can do. */
export type ModelInput =
  | { kind: 'peerQueue'; plaintexts: Uint8Array[]; bad?: 'corrupt' | 'reorder' } // peer protects frames (not yet on the wire); an empty plaintext is one empty frame
  | { kind: 'peerSend'; bytes: number } // the next `bytes` queued bytes reach the conn's kernel queue
  | { kind: 'peerEof' } // peer half-closes (FIN)
  | { kind: 'peerReset' } // peer closes with unread data: the conn's socket fails (ECONNRESET)
  | { kind: 'read'; n: number } // caller starts read(into) with into.length = n
  | { kind: 'wakeup' } // test hook: run the readable path with nothing there
  | { kind: 'hogTake'; size: number } // another holder asks the pool for `size` bytes
  | { kind: 'hogGive'; index: number } // another holder gives back its index-th buffer
  | { kind: 'close' }; // local close

interface Buf {
  cap: number;
  start: number;
  end: number;
}

export class ModelState {
  readonly cfg: ModelConfig;
  // ---- the peer and the kernel
  readonly frames: PeerFrame[] = [];
  readonly frameAt = new Map<number, number>(); // stream offset of a frame's first byte -> index
  written = 0;
  sent = 0;
  peerEof = false; // FIN sent
  peerReset = false; // the peer closed its end with bytes of ours unread
  eofRead = false; // the conn's read(2) has returned 0
  resetPending = false; // the socket has an error the conn has not met yet
  // ---- the pool's other holders
  readonly hogs: number[] = []; // capacities
  // ---- the connection
  buf: Buf | null = null;
  plain: { frame: number; off: number } | null = null; // a frame's plaintext partly handed up
  consumed = 0;
  pending: { id: number; n: number } | null = null;
  watching = false;
  starvedFor: number | null = null; // size the conn waits for the pool to lend
  starvedGivesBack = 0; // capacity it hands over in exchange (growth: the buffer it holds; a fresh borrow: 0)
  inRead = false;
  lastReadFull = false; // the last read(2) filled the buffer: more may be queued
  eofSeen = false;
  readDone = false; // clean EOF handed up, failed, or closed
  eof = false; // clean EOF
  error: ModelErrorCode | null = null;
  released = false; // the conn gave its socket back (close, failure)
  // ---- observations
  readonly reads: ReadOutcome[] = [];
  delivered: number[] = []; // plaintext bytes handed up, in order
  readonly visits: string[] = []; // "state:event", in order
  wakeupEvents = 0; // 'wakeup' events the conn emits
  spins = 0; // readiness acted on that could take nothing (the buffer was full)

  constructor(cfg: ModelConfig) {
    this.cfg = cfg;
  }

  // ---- derived observations -------------------------------------------------------------

  get state(): ConnState {
    if (this.readDone || this.released) return 'closed';
    if (this.inRead) return 'readable';
    if (this.buf === null) return 'idle';
    if (this.plain !== null) return 'decrypted';
    const f = this.frameBytesAtStart();
    return f >= 0 && this.held() >= f ? 'decrypted' : 'partial';
  }

  get heldBytes(): number {
    return this.buf === null ? 0 : this.buf.cap;
  }

  get hogBytes(): number {
    return this.hogs.reduce((a, b) => a + b, 0);
  }

  /** What the pool has lent: the conn's buffer and the other holders'. */
  get outstanding(): number {
    return this.heldBytes + this.hogBytes;
  }

  /** The peer can send no more (FIN or reset). */
  get peerGone(): boolean {
    return this.peerEof || this.peerReset;
  }

  get starved(): boolean {
    return this.starvedFor !== null;
  }

  /** Does the kernel have anything new for the conn (bytes, an EOF not yet read, or an error)? */
  get kernelHasSomething(): boolean {
    return this.sent > this.consumed || (this.peerEof && !this.eofRead) || this.resetPending;
  }

  /** Level-triggered readiness: bytes queued, or EOF (readable for ever), or an error. */
  get pollReadable(): boolean {
    return this.sent > this.consumed || this.peerEof || this.resetPending;
  }

  /** The plaintext the peer sent, in order, as far as frames that authenticate go. */
  peerPlaintext(): number[] {
    const out: number[] = [];
    for (const f of this.frames) {
      if (!f.ok) break;
      out.push(...f.plaintext);
    }
    return out;
  }


  // ---- the peer --------------------------------------------------------------------------

  protected peerQueue(plaintexts: Uint8Array[], bad?: 'corrupt' | 'reorder'): number {
    const added: PeerFrame[] = [];
    for (const p of plaintexts) {
      // An empty plaintext is one empty frame (len = 20): a writer never sends one, a peer may.
      if (p.length === 0) added.push({ plaintext: p, ok: true, wire: FRAME_OVERHEAD });
      let off = 0;
      for (const len of splitPayloads(p.length, this.cfg.maxFrameSize)) {
        added.push({ plaintext: p.subarray(off, off + len), ok: true, wire: len + FRAME_OVERHEAD });
        off += len;
      }
    }
    if (bad === 'corrupt') added[0]!.ok = false; // one bit flipped in its ciphertext or tag
    if (bad === 'reorder') {
      const [a, b] = [added[0]!, added[1]!];
      added[0] = b; // the second frame first: its counter is not the one expected
      added[1] = a;
      a.ok = b.ok = false;
    }
    const anyBad = this.frames.some((f) => !f.ok);
    for (const f of added) {
      if (anyBad || !f.ok) f.ok = false; // after a bad frame no counter lines up again
      this.frameAt.set(this.written, this.frames.length);
      this.frames.push(f);
      this.written += f.wire;
    }
    return added.length;
  }

  // ---- the conn: the buffer --------------------------------------------------------------

  protected held(): number {
    return this.buf === null ? 0 : this.buf.end - this.buf.start;
  }

  protected frameIndexAtStart(): number {
    const k = this.frameAt.get(this.consumed - this.held());
    if (k === undefined) throw new Error('model: buffer does not start at a frame boundary');
    return k;
  }

  /** The whole frame's bytes once its length field is in, else -1. */
  protected frameBytesAtStart(): number {
    if (this.held() < LENGTH_FIELD) return -1;
    return this.frames[this.frameIndexAtStart()]!.wire;
  }

  protected wholeFrameAtStart(): boolean {
    if (this.buf === null || this.held() === 0) return false;
    const f = this.frameBytesAtStart();
    return f >= 0 && this.held() >= f;
  }


  /** One read(2) on an AF_UNIX stream: as much as is queued, up to `spare`; then the socket's error; 0 at EOF; EAGAIN. */
  protected readSyscall(spare: number): number | 'again' | 'error' {
    const queued = this.sent - this.consumed;
    if (queued > 0) return Math.min(spare, queued);
    if (this.resetPending) return 'error';
    if (this.peerEof) {
      this.eofRead = true;
      return 0;
    }
    return 'again';
  }

  protected visit(event: ModelEvent, state: ConnState = this.state): void {
    this.visits.push(`${state}:${event}`);
  }
}
