/**
 * Two ALTS processes talking: the server runs in a child process (the built package, imported
 * by name), the client here; both record protocols, native reader on both ends.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { connect } from '../../src/api.js';
import type { RecordProtocol } from '../../src/crypto/types.js';
import { bytes, keyFor, readExactly } from './harness.js';

const SERVER = `
import { createServer } from 'alts-record';
const [protocol, keyHex] = process.argv.slice(1);
// unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
const server = createServer({ protocol, side: 'server', key: Buffer.from(keyHex, 'hex'), unsafeSharedKey: true }, async (c) => {
  const into = new Uint8Array(65536);
  for (;;) {
    const n = await c.read(into);
    if (n === 0) break;
    await c.write(into.subarray(0, n)); // echo
  }
  await c.end();
  c.close();
  await server.close();
  console.log('reader=' + c.reader + ' served');
});
const { port } = await server.listen(0, '127.0.0.1');
console.log('port=' + port);
`;

describe('two processes', () => {
  it.each(['ALTSRP_GCM_AES128', 'ALTSRP_GCM_AES128_REKEY'] as RecordProtocol[])('%s: echo 3 MiB across processes', async (protocol) => {
    const key = keyFor(protocol);
    const child = spawn(process.execPath, ['--input-type=module', '-e', SERVER, protocol, Buffer.from(key).toString('hex')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Listen for the exit now: the server may be gone before the client has finished reading.
    const exited = once(child, 'exit') as Promise<[number | null]>;
    let out = '';
    child.stdout.setEncoding('utf8');
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d: string) => {
        out += d;
        const m = /port=(\d+)\n/.exec(out); // the whole line: a chunk may end inside the number
        if (m) resolve(Number(m[1]));
      });
      void exited.then(([code]) => reject(new Error(`server exited ${code}: ${out}`)));
    });
    const conn = await connect({ protocol, side: 'client', key, host: '127.0.0.1', port });
    expect(conn.reader).toBe('native');
    const msg = bytes(3 * 1024 * 1024, 5);
    const [echoed] = await Promise.all([readExactly(conn, msg.length), conn.write(msg).then(() => conn.end())]);
    expect(Buffer.compare(echoed, msg)).toBe(0);
    expect(await conn.read(new Uint8Array(1))).toBe(0);
    conn.close();
    const [code] = await exited;
    expect(code).toBe(0);
    expect(out).toContain('reader=native served');
  });
});
