/**
 * The three transports the benches compare, behind one shape: alts-record (this package, over
 * loopback TCP), Node TLS 1.3 with TLS_AES_128_GCM_SHA256, and plain `net`. Each is used the way
 * its users use it: net and TLS through 'data' events and write() with 'drain'; alts-record
 * through conn.read(into) and awaited conn.write().
 * @module
 */
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { connect, createServer } from '../api.js';
import type { AltsConn } from '../conn/AltsConn.js';
import type { Backend, RecordProtocol } from '../crypto/types.js';
import type { BufferPool } from '../pool/BufferPool.js';

export type Kind = 'alts' | 'tls' | 'net';

/** Everything a process needs to open one side of a transport (plain JSON: it crosses IPC). */
export interface TransportSpec {
  kind: Kind;
  /** alts: the crypto backend. */
  backend?: Backend;
  /** alts: maxFrameSize; tls: setMaxSendFragment (largest record's plaintext). */
  frame?: number;
  protocol?: RecordProtocol;
  /** alts: the record key, hex. */
  keyHex?: string;
  /** tls: PEM. */
  cert?: string;
  key?: string;
}

/** One connected end. */
export interface Endpoint {
  /** Write `total` bytes in writes of at most `chunk.length`; resolves once all are handed over. */
  send(total: number, chunk: Uint8Array, onProgress?: (done: number) => void): Promise<void>;
  /** Resolve once `total` bytes have arrived (rejects on EOF or error before). */
  receive(total: number, onProgress?: (done: number) => void): Promise<void>;
  close(): void;
  /** What was negotiated, for the notes ("TLSv1.3 TLS_AES_128_GCM_SHA256", "alts reader=native"). */
  describe(): string;
}

const PROGRESS_EVERY = 64 * 1024 * 1024;
const TLS_OPTIONS = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' } as const;

function altsOptions(s: TransportSpec, side: 'client' | 'server', pool?: BufferPool) {
  return {
    protocol: s.protocol ?? 'ALTSRP_GCM_AES128_REKEY',
    side,
    key: Buffer.from(s.keyHex ?? '', 'hex'),
    ...(s.backend !== undefined && { backend: s.backend }),
    ...(s.frame !== undefined && { maxFrameSize: s.frame }),
    ...(pool !== undefined && { pool }),
  };
}

/** Calls `onProgress` about every 64 MiB. */
function ticker(onProgress?: (done: number) => void): (done: number) => void {
  if (onProgress === undefined) return () => {};
  let mark = PROGRESS_EVERY;
  return (done) => {
    if (done < mark) return;
    mark = done + PROGRESS_EVERY;
    onProgress(done);
  };
}

export function socketEndpoint(sock: net.Socket): Endpoint {
  sock.setNoDelay(true);
  return {
    async send(total, chunk, onProgress) {
      const tick = ticker(onProgress);
      let sent = 0;
      while (total - sent > chunk.length) {
        sent += chunk.length;
        if (!sock.write(chunk)) await once(sock, 'drain');
        tick(sent);
      }
      // The last write's callback: every byte handed to the kernel.
      await new Promise<void>((resolve, reject) => sock.write(chunk.subarray(0, total - sent), (e) => (e ? reject(e) : resolve())));
    },
    receive(total, onProgress) {
      const tick = ticker(onProgress);
      return new Promise((resolve, reject) => {
        let got = 0;
        const onData = (b: Buffer) => {
          got += b.length;
          tick(got);
          if (got < total) return;
          cleanup();
          resolve();
        };
        const onEnd = (e?: Error) => {
          cleanup();
          reject(e ?? new Error(`connection ended after ${got} of ${total} bytes`));
        };
        const cleanup = () => {
          sock.off('data', onData).off('end', onEnd).off('error', onEnd);
        };
        sock.on('data', onData).on('end', onEnd).on('error', onEnd);
      });
    },
    close: () => sock.destroy(),
    describe: () => (sock instanceof tls.TLSSocket ? `${sock.getProtocol()} ${sock.getCipher().standardName}` : 'net'),
  };
}

export function altsEndpoint(conn: AltsConn): Endpoint {
  return {
    async send(total, chunk, onProgress) {
      const tick = ticker(onProgress);
      for (let sent = 0; sent < total; ) {
        const n = Math.min(chunk.length, total - sent);
        await conn.write(n === chunk.length ? chunk : chunk.subarray(0, n));
        sent += n;
        tick(sent);
      }
    },
    async receive(total, onProgress) {
      const tick = ticker(onProgress);
      const into = new Uint8Array(64 * 1024);
      for (let got = 0; got < total; ) {
        const n = await conn.read(into);
        if (n === 0) throw new Error(`connection ended after ${got} of ${total} bytes`);
        got += n;
        tick(got);
      }
    },
    close: () => conn.close(),
    describe: () => `alts reader=${conn.reader}`,
  };
}

export interface Listener {
  port: number;
  close(): Promise<void>;
}

/**
 * Listen on loopback; `onConn` gets each connection once it is ready to carry data (TLS: after
 * the handshake). `onAlts` / `onSocket` (if given) get the AltsConn or socket itself instead.
 */
export async function listen(
  s: TransportSpec,
  onConn: (e: Endpoint) => void,
  o: { pool?: BufferPool; onAlts?: (c: AltsConn) => void; onSocket?: (s: net.Socket) => void } = {},
): Promise<Listener> {
  if (s.kind === 'alts') {
    const server = // unsafeSharedKey: a benchmark of the record layer alone, every connection on one key (loopback only).
    createServer({ ...altsOptions(s, 'server', o.pool), unsafeSharedKey: true }, (c) => (o.onAlts ? o.onAlts(c) : onConn(altsEndpoint(c))));
    const { port } = await server.listen(0, '127.0.0.1');
    return { port, close: () => server.close() };
  }
  const server =
    s.kind === 'tls'
      ? tls.createServer({ cert: s.cert, key: s.key, ...TLS_OPTIONS }, (sock) => {
          if (s.frame !== undefined) sock.setMaxSendFragment(s.frame);
          if (o.onSocket) o.onSocket(sock);
          else onConn(socketEndpoint(sock));
        })
      : net.createServer((sock) => (o.onSocket ? o.onSocket(sock) : onConn(socketEndpoint(sock))));
  server.listen(0, '127.0.0.1', 1024);
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A plain or TLS client socket, connected (TLS: handshake done). */
export async function dialSocket(s: TransportSpec, port: number): Promise<net.Socket> {
  if (s.kind === 'tls') {
    const sock = tls.connect({ port, host: '127.0.0.1', ca: s.cert, servername: 'localhost', ...TLS_OPTIONS });
    await once(sock, 'secureConnect');
    if (s.frame !== undefined) sock.setMaxSendFragment(s.frame);
    return sock;
  }
  const sock = net.connect({ port, host: '127.0.0.1' });
  await once(sock, 'connect');
  return sock;
}

/** Connect to a `listen`ing peer of the same spec. */
export async function dial(s: TransportSpec, port: number, pool?: BufferPool): Promise<Endpoint> {
  if (s.kind === 'alts') return altsEndpoint(await dialAlts(s, port, pool));
  return socketEndpoint(await dialSocket(s, port));
}

export function dialAlts(s: TransportSpec, port: number, pool?: BufferPool): Promise<AltsConn> {
  return connect({ ...altsOptions(s, 'client', pool), host: '127.0.0.1', port });
}

/**
 * Open `n` connections, at most `parallel` handshakes at a time (a burst of thousands would
 * overflow the listen backlog and stall on SYN retries). `onProgress` gets the count so far.
 */
export async function openMany<T>(n: number, open: (i: number) => Promise<T>, onProgress?: (done: number) => void, parallel = 128): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await open(i);
      onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return out;
}
