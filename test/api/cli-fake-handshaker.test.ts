/**
 * `alts-record fake-handshaker` as the installed command runs it (dist/cli.js; `npm test` builds
 * first): one JSON line with the address, handshakes through it, SIGTERM ends it with code 0; a
 * bad argument is exit 2 with the usage.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { connect, createServer } from '../../src/api.js';
import { fakeHandshakerMain } from '../../src/handshake/fake/cli.js';
import { closeHandshakerClients } from '../../src/handshake/service.js';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

describe('alts-record fake-handshaker', () => {
  it('serves until SIGTERM: the printed address runs a handshake, then exit 0', async () => {
    const child = spawn(process.execPath, [cli, 'fake-handshaker', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const { address, service } = JSON.parse(line) as { address: string; service: string };
    expect(service).toBe('grpc.gcp.HandshakerService');
    const server = createServer({ handshaker: { address } }, async (c) => {
      await c.write(new TextEncoder().encode('ok'));
    });
    const { port } = await server.listen(0, '127.0.0.1');
    const c = await connect({ host: '127.0.0.1', port, handshaker: { address } });
    const into = new Uint8Array(2);
    expect(await c.read(into)).toBe(2);
    expect(c.altsContext?.recordProtocol).toBe('ALTSRP_GCM_AES128_REKEY');
    c.close();
    await server.close();
    closeHandshakerClients();
    expect(child.exitCode).toBeNull(); // still serving
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
  });

  it('a non-loopback --listen is exit 2 unless --allow-non-loopback; --listen without a value says so', async () => {
    const run = async (...args: string[]) => {
      const child = spawn(process.execPath, [cli, 'fake-handshaker', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const bound = setTimeout(() => child.kill(), 10_000); // a fake that serves instead never exits by itself
      const [code] = (await once(child, 'exit')) as [number];
      clearTimeout(bound);
      return { code, err };
    };
    const open = await run('--listen', '0.0.0.0:0');
    expect(open.code).toBe(2);
    expect(open.err).toMatch(/not a loopback address.*--allow-non-loopback/);
    const bare = await run('--listen');
    expect(bare.code).toBe(2);
    expect(bare.err).toMatch(/"--listen" needs a value/);
  });

  it('--allow-non-loopback listens on 0.0.0.0 and serves', async () => {
    const svc = await fakeHandshakerMain(['--listen', '0.0.0.0:0', '--allow-non-loopback'], { signals: false, out: () => {} });
    expect(svc.address).toMatch(/^0\.0\.0\.0:\d+$/);
    await svc.close();
  });

  it('a bad --listen is exit 2 with the usage on stderr', async () => {
    const child = spawn(process.execPath, [cli, 'fake-handshaker', '--listen', 'nowhere'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(2);
    expect(err).toMatch(/"--listen" expected HOST:PORT/);
    expect(err).toMatch(/usage: alts-record fake-handshaker/);
  });
});
