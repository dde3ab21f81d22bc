/**
 * What a process sees at the API edge when the addon is missing or fds run out: each case runs
 * in a fresh child process (plain node on the built package, dist/), on real loopback sockets.
 * - Without the addon and without `reader`: every connection gets the stream reader, and the
 *   process gets one ALTS_NATIVE_FALLBACK warning naming the cost and the fix. `reader: 'native'`
 *   is then a requirement: a RangeError before any socket is opened.
 * - A connect that fails after its TCP connection is open (the takeover's dup out of fds)
 *   closes that connection: the server sees it close.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dist = new URL('../../dist/index.js', import.meta.url).href;

function runChild(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('without the native addon', () => {
  it("falls back to the stream reader with one process warning naming the cost, and reader 'native' is a RangeError before any socket", async () => {
    const script = `
      import { randomBytes } from 'node:crypto';
      import net from 'node:net';
      const { connect, createServer, wrapFd } = await import(${JSON.stringify(dist)});
      const warnings = [];
      process.on('warning', (w) => warnings.push({ code: w.code, message: w.message }));
      const protocol = 'ALTSRP_GCM_AES128_REKEY';
      const key = randomBytes(44);
      // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
      const server = createServer({ protocol, side: 'server', key, unsafeSharedKey: true }, async (c) => {
        try {
          const b = new Uint8Array(64);
          for (let n; (n = await c.read(b)) > 0; ) await c.write(b.subarray(0, n));
          await c.end();
        } finally { c.close(); }
      });
      const { port } = await server.listen(0, '127.0.0.1');
      const readers = [];
      for (let i = 0; i < 3; i++) {
        const c = await connect({ protocol, side: 'client', key, host: '127.0.0.1', port });
        readers.push(c.reader, [...server.connections].map((s) => s.reader).join());
        await c.write(new Uint8Array([i]));
        await c.end();
        const b = new Uint8Array(8);
        if ((await c.read(b)) !== 1 || b[0] !== i) throw new Error('echo differs');
        c.close();
      }
      let accepted = 0;
      const plain = net.createServer((s) => { accepted++; s.destroy(); });
      plain.listen(0, '127.0.0.1');
      await new Promise((r) => plain.on('listening', r));
      const errOf = async (f) => { try { await f(); return null; } catch (e) { return { name: e.constructor.name, message: e.message }; } };
      const connectNative = await errOf(() => connect({ protocol, side: 'client', key, host: '127.0.0.1', port: plain.address().port, reader: 'native' }));
      // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
      const serverNative = await errOf(() => createServer({ protocol, side: 'server', key, unsafeSharedKey: true, reader: 'native' }, () => {}));
      const fdNative = await errOf(() => wrapFd(0, { protocol, side: 'client', key }));
      await new Promise((r) => setImmediate(r));
      await server.close();
      plain.close();
      console.log(JSON.stringify({ readers, warnings, connectNative, serverNative, fdNative, accepted }));`;
    const missing = join(mkdtempSync(join(tmpdir(), 'alts-no-addon-')), 'alts_native.node');
    const r = await runChild(script, { ALTS_NATIVE_ADDON: missing });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as {
      readers: string[];
      warnings: { code: string; message: string }[];
      connectNative: { name: string; message: string };
      serverNative: { name: string; message: string };
      fdNative: { name: string; message: string };
      accepted: number;
    };
    expect(new Set(out.readers)).toEqual(new Set(['stream']));
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]!.code).toBe('ALTS_NATIVE_FALLBACK');
    expect(out.warnings[0]!.message).toMatch(
      /^alts-record: native addon not loaded \(not built\); using the stream reader: Node's stream buffers hold memory while connections wait\. .*npm rebuild alts-record/,
    );
    // Node prints the warning once on stderr, and nothing else is printed.
    expect(r.stderr.match(/ALTS_NATIVE_FALLBACK/g)).toHaveLength(1);
    for (const e of [out.connectNative, out.serverNative]) {
      expect(e.name).toBe('RangeError');
      expect(e.message).toMatch(/^"reader" 'native' needs the alts_native addon, which did not load \(not built\): run `npm rebuild alts-record`.*\(or use reader 'stream'\)$/);
    }
    // wrapFd was given no reader: the message names wrapFd and the way out without the addon.
    expect(out.fdNative.name).toBe('RangeError');
    expect(out.fdNative.message).toMatch(/^wrapFd needs the alts_native addon, which did not load \(not built\): .*\(or use wrap\(socket, \{ reader: 'stream' \}\) on a net\.Socket\)$/);
    expect(out.accepted).toBe(0);
  });
});

describe('connect out of fds', () => {
  it('a failure after the TCP connection is open (the takeover dup: EMFILE) closes that connection while the process lives on', async () => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    // Listened to from the accept on: the server side reads the client's FIN at once.
    let bytesRead = -1;
    const serverClosed = new Promise<boolean>((resolve) =>
      server.once('connection', (s: net.Socket) => {
        s.on('error', () => {});
        s.once('close', (hadError) => {
          bytesRead = s.bytesRead;
          resolve(hadError);
        });
      }),
    );
    // The child loads the addon, fills its fd table, frees one fd (the socket takes it, then the
    // takeover's dup finds none), connects, reports, and stays alive until its stdin ends.
    const script = `
      import { openSync, closeSync } from 'node:fs';
      const { connect, tryLoadNative } = await import(${JSON.stringify(dist)});
      if (!tryLoadNative()) throw new Error('no addon');
      const key = new Uint8Array(44);
      // stdio first: a pipe's handle may take an fd the first time it is used.
      process.stdin.on('end', () => process.exit(0)).resume();
      process.stdout.write('');
      const held = [];
      try { for (;;) held.push(openSync('/dev/null', 'r')); } catch {}
      // Free one fd at a time until connect gets past socket(): then the dup has none left.
      let result;
      for (let freed = 1; ; freed++) {
        closeSync(held.pop());
        try {
          (await connect({ protocol: 'ALTSRP_GCM_AES128_REKEY', side: 'client', key, host: '127.0.0.1', port: ${port} })).close();
          result = { ok: true };
        } catch (e) {
          if (!e.message.includes('dup') && freed < 8) continue;
          result = { code: e.code, errno: e.errno, message: e.message };
        }
        break;
      }
      for (const fd of held) closeSync(fd);
      console.log(JSON.stringify(result));`;
    const env = { ...process.env };
    delete env.NODE_V8_COVERAGE; // coverage output would take fds in the child
    const child = spawn('sh', ['-c', 'ulimit -n 64 && exec "$0" --input-type=module -e "$1"', process.execPath, script], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const line = await Promise.race([once(child.stdout, 'data').then(([d]) => String(d)), exited.then((code) => `exited ${code}`)]);
    expect(line, stderr).toMatch(/^\{/);
    expect(JSON.parse(line.trim()), stderr).toMatchObject({ code: 'IO_ERROR', errno: 'EMFILE', message: expect.stringContaining('dup') });
    // The client is alive: the connection closes only if connect closed it.
    let deadline: NodeJS.Timeout | undefined;
    const stillOpen = new Promise<string>((resolve) => (deadline = setTimeout(() => resolve('still open after 5 s'), 5000)));
    expect(await Promise.race([serverClosed, stillOpen])).toBe(false);
    clearTimeout(deadline);
    expect(bytesRead).toBe(0);
    child.stdin.end();
    expect(await exited).toBe(0);
    server.close();
  });
});
