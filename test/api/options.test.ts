/**
 * Options are resolved and checked once, at the API edge, before any socket is opened or taken
 * (src/options.ts): connect opens no connection for a bad option, wrap leaves the caller's socket
 * open and usable, createServer fails at creation, and an option name that is not one is a
 * TypeError. All on real loopback sockets; the server side counts what it was sent.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, wrap, wrapFd, type ConnOptions, type MultiConnOptions } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { isAltsError } from '../../src/errors.js';
import { loadNative } from '../../src/native.js';
import { echoOnce } from './_echo.js';

const protocol = 'ALTSRP_GCM_AES128_REKEY' as const;
const key = new Uint8Array(randomBytes(44));
const base = { protocol, key } as const;

/** Each bad option with the error it must be: [what, the option, TypeError | RangeError | an AltsError code]. */
const BAD: [string, Record<string, unknown>, typeof TypeError | typeof RangeError | string][] = [
  ['readSize below a size class', { readSize: 1 }, RangeError],
  ['readSize above one frame', { readSize: 2 ** 21 }, RangeError],
  ['readSize of the wrong type', { readSize: '65536' }, TypeError],
  ['maxFrameSize too small', { maxFrameSize: 100 }, RangeError],
  ['an unknown reader', { reader: 'fast' }, RangeError],
  ['protected not bytes', { protected: 'leftover' }, TypeError],
  ['pool not a BufferPool', { pool: {} }, TypeError],
  ['backend unknown', { backend: 'openssl' }, RangeError],
  ['counters not an object', { counters: 5 }, TypeError],
  ['a misspelt option', { readsize: 65536 }, TypeError],
  ['a short key', { key: new Uint8Array(16) }, 'BAD_KEY'],
];

function expectBad(fn: () => unknown, want: (typeof BAD)[number][2]): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (typeof want === 'string') {
    expect(isAltsError(thrown) && thrown.code).toBe(want);
  } else {
    expect(thrown).toBeInstanceOf(want);
    expect(isAltsError(thrown)).toBe(false);
  }
}

/** A plain TCP echo server that counts the connections it accepted and those that closed. */
async function countingServer(): Promise<{ port: number; accepted: () => number; open: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  let open = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    accepted++;
    open++;
    sockets.add(s);
    s.on('close', () => {
      open--;
      sockets.delete(s);
    });
    s.on('error', () => {});
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    open: () => open,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('connect checks every option before it opens a connection', () => {
  it.each(BAD)('%s: rejects, and the server never sees a connection', async (_what, bad, want) => {
    const srv = await countingServer();
    cleanups.push(srv.close);
    const o = { ...base, side: 'client', host: '127.0.0.1', port: srv.port, ...bad } as unknown as Parameters<typeof connect>[0];
    let thrown: unknown;
    await connect(o).then(
      (c) => c.close(),
      (e: unknown) => (thrown = e),
    );
    expectBad(() => {
      if (thrown) throw thrown;
    }, want);
    // A probe connection after it: the server accepts in order, so a leaked one would come first.
    const probe = net.connect(srv.port, '127.0.0.1');
    await once(probe, 'connect');
    while (srv.accepted() < 1) await new Promise((r) => setImmediate(r));
    expect(srv.accepted()).toBe(1);
    probe.destroy();
  });

  it('host and port are checked too', async () => {
    await expect(connect({ ...base, side: 'client', host: 1 as unknown as string, port: 1 })).rejects.toBeInstanceOf(TypeError);
    await expect(connect({ ...base, side: 'client', host: '127.0.0.1', port: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(connect({ ...base, side: 'client', host: '', port: 1 })).rejects.toBeInstanceOf(RangeError); // '' would mean localhost to net.connect
  });
});

/** A connected client socket, paused before 'connect' as connect() does, to a counting echo server. */
async function clientSocket(): Promise<{ socket: net.Socket; srv: Awaited<ReturnType<typeof countingServer>> }> {
  const srv = await countingServer();
  cleanups.push(srv.close);
  const socket = net.connect(srv.port, '127.0.0.1');
  socket.pause();
  await once(socket, 'connect');
  cleanups.push(() => socket.destroy());
  return { socket, srv };
}

describe('wrap checks every option before it takes the socket', () => {
  it.each(BAD)('%s: throws, and the socket stays open and usable', async (_what, bad, want) => {
    const { socket, srv } = await clientSocket();
    expectBad(() => wrap(socket, { ...base, side: 'client', ...bad } as unknown as ConnOptions), want);
    expect(socket.destroyed).toBe(false);
    socket.resume();
    socket.write('still mine');
    const [echoed] = (await once(socket, 'data')) as [Buffer];
    expect(echoed.toString()).toBe('still mine');
    expect(srv.open()).toBe(1);
  });

  it("reader 'native' over a Duplex that is not a socket is a TypeError before anything is touched", async () => {
    const { socket } = await clientSocket();
    const { Duplex } = await import('node:stream');
    const d = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
    expect(() => wrap(d, { ...base, side: 'client', reader: 'native' })).toThrow(TypeError);
    expect(() => wrap({} as net.Socket, { ...base, side: 'client' })).toThrow(TypeError);
    expect(socket.destroyed).toBe(false);
  });
});

describe('wrapFd checks every option before it takes the fd', () => {
  it.each(BAD)('%s: throws, and the caller still owns the fd', (_what, bad, want) => {
    const native = loadNative();
    const [a, b] = native.socketpair();
    try {
      expectBad(() => wrapFd(a, { ...base, side: 'client', ...bad } as unknown as Parameters<typeof wrapFd>[1]), want);
      // The fd is still open and connected: a byte written on it arrives at the other end.
      const h = new native.ReadyHandle(b, () => {});
      const w = new native.ReadyHandle(a, () => {});
      expect(w.write(new Uint8Array([7]), 0, 1)).toBe(1);
      const got = new Uint8Array(1);
      expect(h.read(got, 0, 1)).toBe(1);
      expect(got[0]).toBe(7);
      h.close();
      w.close();
    } catch (e) {
      native.closeFd(a);
      native.closeFd(b);
      throw e;
    }
  });

  it("wrapFd accepts reader 'native' and nothing else", () => {
    const native = loadNative();
    const [a, b] = native.socketpair();
    expect(() => wrapFd(a, { ...base, side: 'client', reader: 'stream' } as unknown as Parameters<typeof wrapFd>[1])).toThrow(RangeError);
    const conn = wrapFd(a, { ...base, side: 'client', reader: 'native' });
    expect(conn.reader).toBe('native');
    conn.close();
    native.closeFd(b);
  });
});

describe('createServer resolves its options once, at creation', () => {
  it.each(BAD)('%s: throws at creation, before it listens', (_what, bad, want) => {
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    expectBad(() => createServer({ ...base, side: 'server', unsafeSharedKey: true, ...bad } as unknown as ConnOptions, () => {}), want);
  });

  it.each([
    ['Uint8Array', (k: Uint8Array): Uint8Array => k.slice()],
    ['Buffer', (k: Uint8Array): Uint8Array => Buffer.from(k)],
  ])('changing the options object or the key buffer (a %s) afterwards changes nothing', async (_kind, copy) => {
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    const o: MultiConnOptions = { ...base, key: copy(key), side: 'server', readSize: 4096, unsafeSharedKey: true };
    const conns: AltsConn[] = [];
    const server = createServer(o, echoOnce(conns));
    const { port } = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());
    o.readSize = 1;
    (o.key as Uint8Array).fill(0);
    const client = await connect({ ...base, side: 'client', host: '127.0.0.1', port });
    await client.write(new TextEncoder().encode('same key'));
    const got = new Uint8Array(64);
    const n = await client.read(got);
    expect(new TextDecoder().decode(got.subarray(0, n))).toBe('same key');
    client.close();
  });
});

describe('BufferPool and createProtector reject unknown option names, as connect does', () => {
  it('new BufferPool({ budgt }) is a TypeError naming the unknown option', async () => {
    const { BufferPool } = await import('../../src/pool/BufferPool.js');
    expect(() => new BufferPool({ budgt: 1000 } as never)).toThrow(TypeError);
    expect(() => new BufferPool({ budgt: 1000 } as never)).toThrow(/unknown option "budgt"; expected budget, retain/);
    expect(new BufferPool({ budget: 1000, retain: 0 }).budget).toBe(1000);
  });

  it('createProtector({ maxFramesize }) is a TypeError naming the unknown option', async () => {
    const { createProtector } = await import('../../src/protector.js');
    const base = { protocol: 'ALTSRP_GCM_AES128_REKEY', side: 'client', key: new Uint8Array(44) } as const;
    expect(() => createProtector({ ...base, maxFramesize: 4096 } as never)).toThrow(TypeError);
    expect(() => createProtector({ ...base, maxFramesize: 4096 } as never)).toThrow(/unknown option "maxFramesize"/);
    expect(createProtector({ ...base, maxFrameSize: 4096 })).toBeDefined();
  });
});
