import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { fakeHandshakerMain, parseListen } from '../../src/handshake/fake/cli.js';
import { runHandshake } from '../../src/handshake/handshake.js';
import { HandshakerClient } from '../../src/handshake/service.js';
import { hsOptions, readerPair } from './_rig.js';

describe('fake-handshaker command', () => {
  it('prints one JSON line with "address" once it serves, and handshakes go through that address', async () => {
    const lines: string[] = [];
    const svc = await fakeHandshakerMain(['--listen', '127.0.0.1:0'], { out: (l) => lines.push(l), signals: false });
    expect(lines).toHaveLength(1);
    const { address } = JSON.parse(lines[0]!) as { address: string };
    expect(address).toBe(svc.address);
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    const client = new HandshakerClient(address);
    const p = await readerPair();
    const [c, s] = await Promise.all([
      runHandshake(p.client, hsOptions('client', { address }, { client })),
      runHandshake(p.server, hsOptions('server', { address }, { client })),
    ]);
    expect(c.key).toEqual(s.key);
    expect(svc.streams).toBe(2);
    p.client.close();
    p.server.close();
    client.close();
    await svc.close();
  });

  it('as its own process: the line comes on stdout, SIGTERM stops it with code 0', async () => {
    // The built module (`npm test` builds first), as the command runs it.
    const mod = new URL('../../dist/handshake/fake/cli.js', import.meta.url).href;
    const code = `import(${JSON.stringify(mod)}).then((m) => m.fakeHandshakerMain(['--listen=127.0.0.1:0']))`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.on('error', () => {});
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    expect(JSON.parse(line)).toMatchObject({ address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    child.kill('SIGTERM');
    const [exit] = (await once(child, 'exit')) as [number];
    expect(exit).toBe(0);
  });

  it('--listen takes HOST:PORT ([v6]:port too); anything else is a RangeError', async () => {
    expect(parseListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(parseListen('localhost:1')).toEqual({ host: 'localhost', port: 1 });
    expect(() => parseListen('nohost')).toThrow(RangeError);
    expect(() => parseListen('h:70000')).toThrow(RangeError);
    await expect(fakeHandshakerMain(['--port', '1'], { signals: false })).rejects.toThrow(RangeError);
  });
});
