/**
 * A Node Duplex over an AltsConn, for code that speaks streams (node:http2, grpc-js).
 * Reads go through `readOnReady`, so nothing is borrowed while the stream waits; each chunk is
 * copied once into a Buffer the stream owns and the pool buffer goes straight back.
 * @module
 */
import { Duplex } from 'node:stream';
import type { BufferPool } from '../pool/BufferPool.js';
import type { AltsConn } from './AltsConn.js';

const CHUNK = 64 * 1024;

export function toDuplex(conn: AltsConn, pool: BufferPool): Duplex {
  let reading = false;
  const duplex: Duplex = new Duplex({
    read() {
      if (reading) return;
      reading = true;
      conn.readOnReady(CHUNK, pool).then(
        (r) => {
          reading = false;
          if (r === null) {
            duplex.push(null);
            return;
          }
          const chunk = Buffer.from(r.buf.subarray(0, r.n));
          pool.put(r.buf);
          duplex.push(chunk);
        },
        (err: Error) => {
          reading = false;
          duplex.destroy(err);
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
      conn.end().then(() => cb(), cb);
    },
    destroy(err, cb) {
      conn.close();
      cb(err);
    },
  });
  return duplex;
}
