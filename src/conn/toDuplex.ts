/**
 * A Node Duplex over an AltsConn, for code that speaks streams (node:http2, grpc-js).
 * Reads go through `readOnReady`, so nothing is borrowed while the stream waits; each chunk is
 * copied once into a Buffer the stream owns and the pool buffer goes straight back.
 * @module
 */
import { Duplex } from 'node:stream';
import { isAltsError } from '../errors.js';
import type { BufferPool } from '../pool/BufferPool.js';
import type { AltsConn } from './AltsConn.js';
import type { ReadyResult } from './PendingRead.js';

const CHUNK = 64 * 1024;

/** `readOnReady` is the conn's own, which only the stream may call: the conn's public reads are refused once it exists. */
export function toDuplex(conn: AltsConn, pool: BufferPool, readOnReady: (size: number, pool: BufferPool) => Promise<ReadyResult>): Duplex {
  let reading = false;
  let eof = false; // pushed null
  let finishing = false; // final() called conn.end()
  const duplex: Duplex = new Duplex({
    read() {
      if (reading) return;
      reading = true;
      readOnReady(CHUNK, pool).then(
        (r) => {
          reading = false;
          if (r === null) {
            eof = true;
            duplex.push(null);
            return;
          }
          const chunk = Buffer.from(r.buf.subarray(0, r.n));
          pool.put(r.buf);
          duplex.push(chunk);
        },
        (err: Error) => {
          reading = false;
          // CLOSED is the caller's own close(): the stream ends as net.Socket.destroy() ends one,
          // 'close' with no error. Only a peer or I/O failure is the stream's error.
          duplex.destroy(isAltsError(err) && err.code === 'CLOSED' ? undefined : err);
        },
      );
    },
    write(chunk: Buffer, _enc, cb) {
      conn.write(chunk).then(() => cb(), cb);
    },
    // Chunks written while an earlier write was in flight (node:http2 writes each frame's 9-byte
    // header and its payload separately) go out together: one message, not a frame per chunk.
    writev(chunks: { chunk: Buffer }[], cb) {
      const data = chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk));
      conn.write(data).then(() => cb(), cb);
    },
    final(cb) {
      finishing = true;
      conn.end().then(() => cb(), cb);
    },
    // Destroyed by an error: the connection failed, and a reset says so to the peer (on TCP),
    // where a graceful close would look like a complete exchange (docs/spec.md §10).
    destroy(err, cb) {
      conn.close({ abort: err != null });
      cb(err);
    },
  });
  // The conn closed with no read pending: the stream ends too, with the error that failed the
  // conn, or none after conn.close(). A pending read settles on its own and ends the stream
  // then. A conn that closed because both directions ended through the stream is left to the
  // stream's own autoDestroy, which keeps what the consumer has not read yet.
  conn.once('close', () => {
    if (reading || (eof && finishing)) return;
    duplex.destroy(conn.error ?? undefined);
  });
  return duplex;
}
