/**
 * connect / createServer with `handshaker` on real sockets, through the fake handshaker service
 * (docs/handshake.md §7): both readers, altsContext, the per-connection keying rules, close
 * during a handshake, a failed handshake on the server, and connections parked mid-handshake
 * holding no pool memory.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, wrap, type AltsServer } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { isAltsError } from '../../src/errors.js';
import { MAX_IN_FLIGHT } from '../../src/handshake/service.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { fakeForFile } from '../handshake/_rig.js';
import { echoOnce } from './_echo.js';

const fake = fakeForFile();
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const SERVER_ACCOUNT = 'server@alts-record.test';
const CLIENT_ACCOUNT = 'client@alts-record.test';
const errorOf = (server: AltsServer): Promise<unknown> => new Promise((resolve) => server.on('error', resolve));
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function readAll(c: AltsConn, want: number): Promise<string> {
  const into = new Uint8Array(want);
  let got = 0;
  while (got < want) {
    const n = await c.read(into.subarray(got));
    if (n === 0) break;
    got += n;
  }
  return new TextDecoder().decode(into.subarray(0, got));
}

async function echoServer(reader: 'native' | 'stream', pool?: BufferPool): Promise<{ server: AltsServer; port: number; conns: AltsConn[] }> {
  const conns: AltsConn[] = [];
  const server = createServer(
    { handshaker: { address: fake.svc.address, localServiceAccount: SERVER_ACCOUNT }, reader, ...(pool && { pool }) },
    echoOnce(conns),
  );
  const { port } = await server.listen(0, '127.0.0.1');
  cleanups.push(() => server.close());
  return { server, port, conns };
}

describe.each(['native', 'stream'] as const)('connect / createServer with handshaker, %s reader', (reader) => {
  it('handshakes, carries bytes both ways, and altsContext names each peer', async () => {
    const { port, conns } = await echoServer(reader);
    const client = await connect({
      host: '127.0.0.1',
      port,
      reader,
      handshaker: { address: fake.svc.address, targetServiceAccounts: [SERVER_ACCOUNT], localServiceAccount: CLIENT_ACCOUNT },
    });
    cleanups.push(() => client.close());
    expect(client.reader).toBe(reader);
    await client.write(enc('hello over a handshake'));
    expect(await readAll(client, 22)).toBe('hello over a handshake');
    const version = { major: 2, minor: 1 };
    expect(client.altsContext).toEqual({
      applicationProtocol: 'grpc',
      recordProtocol: 'ALTSRP_GCM_AES128_REKEY',
      securityLevel: 'INTEGRITY_AND_PRIVACY',
      peerServiceAccount: SERVER_ACCOUNT,
      localServiceAccount: CLIENT_ACCOUNT,
      peerRpcVersions: { maxRpcVersion: version, minRpcVersion: version },
      peerAttributes: {},
    });
    expect(conns).toHaveLength(1);
    expect(conns[0]!.altsContext).toMatchObject({ peerServiceAccount: CLIENT_ACCOUNT, localServiceAccount: SERVER_ACCOUNT });
  });

  it('a client whose target is not the server fails HANDSHAKE_FAILED, and the server keeps serving', async () => {
    const { server, port } = await echoServer(reader);
    const errors: unknown[] = [];
    const reported = new Promise<void>((resolve) =>
      server.on('error', (e) => {
        errors.push(e);
        resolve();
      }),
    );
    const bad = await connect({ host: '127.0.0.1', port, reader, handshaker: { address: fake.svc.address, targetServiceAccounts: ['someone-else@x'] } }).catch((e: unknown) => e);
    expect(isAltsError(bad, 'HANDSHAKE_FAILED')).toBe(true);
    await reported;
    expect(isAltsError(errors[0], 'HANDSHAKE_FAILED')).toBe(true);
    const good = await connect({ host: '127.0.0.1', port, reader, handshaker: { address: fake.svc.address } });
    cleanups.push(() => good.close());
    await good.write(enc('still'));
    expect(await readAll(good, 5)).toBe('still');
  });
});

describe('a failed server handshake is one connection setup failure', () => {
  it('a non-ALTS client is reported on the server, never reaches onConn, and the server keeps serving', async () => {
    let handled = 0;
    let onHandled!: () => void;
    const handledOnce = new Promise<void>((resolve) => (onHandled = resolve));
    const server = createServer({ handshaker: { address: fake.svc.address } }, () => {
      handled++;
      onHandled();
    });
    const { port } = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());
    const reported = errorOf(server);
    const http = net.connect(port, '127.0.0.1');
    http.on('error', () => {});
    http.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const err = await reported;
    expect(isAltsError(err, 'HANDSHAKE_FAILED')).toBe(true);
    await once(http, 'close');
    expect(handled).toBe(0);
    const good = await connect({ host: '127.0.0.1', port, handshaker: { address: fake.svc.address } });
    cleanups.push(() => good.close());
    expect(good.altsContext).not.toBeNull();
    await handledOnce;
    expect(handled).toBe(1);
  });
});

describe('keying: a fixed key is for one connection', () => {
  const key = new Uint8Array(44).fill(7);
  const protocol = 'ALTSRP_GCM_AES128_REKEY' as const;

  it('handshaker with protocol, side or key is a TypeError naming it', () => {
    for (const extra of [{ protocol }, { side: 'server' as const }, { key }]) {
      expect(() => createServer({ handshaker: { address: fake.svc.address }, ...extra }, () => {})).toThrow(TypeError);
    }
    return expect(connect({ host: '127.0.0.1', port: 1, handshaker: { address: fake.svc.address }, key })).rejects.toThrow(/"key" is not an option with "handshaker"/);
  });

  it('a bad handshaker option throws before any socket', async () => {
    expect(() => createServer({ handshaker: { address: 'no-port' } }, () => {})).toThrow(RangeError);
    expect(() => createServer({ handshaker: { timeoutMs: 'soon' as never } }, () => {})).toThrow(TypeError);
    // Port 1 on loopback refuses: a rejection that is not IO_ERROR shows no socket was tried.
    const err = await connect({ host: '127.0.0.1', port: 1, handshaker: { address: fake.svc.address, maxPeerBytes: 1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
  });

  it('createServer with a fixed key is a TypeError saying what to use; unsafeSharedKey allows it', async () => {
    expect(() => createServer({ protocol, side: 'server', key }, () => {})).toThrow(/unsafeSharedKey/);
    expect(() => createServer({ protocol, side: 'server', key }, () => {})).toThrow(TypeError);
    expect(() => createServer({ protocol, side: 'server', key, unsafeSharedKey: 'yes' as never }, () => {})).toThrow(TypeError);
    expect(() => createServer({ protocol, side: 'server', key: () => key, unsafeSharedKey: true }, () => {})).toThrow(TypeError);
    // unsafeSharedKey: this checks the option itself, so both connections share one key on loopback.
    const server = createServer({ protocol, side: 'server', key, unsafeSharedKey: true }, async (c) => {
      await c.write(enc('shared'));
    });
    const { port } = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());
    for (let i = 0; i < 2; i++) {
      const c = await connect({ protocol, side: 'client', key, host: '127.0.0.1', port });
      cleanups.push(() => c.close());
      expect(await readAll(c, 6)).toBe('shared');
      expect(c.altsContext).toBeNull();
    }
  });

  it('a key function is called once per connection with the peer address, and its key checked', async () => {
    const seen: { remoteAddress: string | undefined; remotePort: number | undefined }[] = [];
    const keys = [new Uint8Array(44).fill(1), new Uint8Array(44).fill(2)];
    const server = createServer(
      {
        protocol,
        side: 'server',
        key: (info) => {
          seen.push(info);
          return keys[seen.length - 1] ?? new Uint8Array(3);
        },
      },
      async (c) => {
        await c.write(enc('own key'));
      },
    );
    const { port } = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());
    for (const k of keys) {
      const c = await connect({ protocol, side: 'client', key: k, host: '127.0.0.1', port });
      cleanups.push(() => c.close());
      expect(await readAll(c, 7)).toBe('own key');
    }
    expect(seen).toHaveLength(2);
    expect(seen[0]!.remoteAddress).toBe('127.0.0.1');
    expect(seen[0]!.remotePort).not.toBe(seen[1]!.remotePort);
    // A third connection gets a 3-byte key: BAD_KEY, reported, the socket closed.
    const reported = errorOf(server);
    const raw = net.connect(port, '127.0.0.1');
    raw.on('error', () => {});
    const err = await reported;
    expect(isAltsError(err, 'BAD_KEY')).toBe(true);
    await once(raw, 'close');
  });

  it('wrap takes no handshaker (one socket, a key the caller has)', () => {
    const s = new net.Socket();
    expect(() => wrap(s, { handshaker: { address: fake.svc.address } } as never)).toThrow(TypeError);
    s.destroy();
  });
});

/** A TCP server that accepts and never says a word; waits on how many it accepted, heard from, saw close. */
async function silentPeer() {
  const sockets: net.Socket[] = [];
  const count = { accepted: 0, spoke: 0, closed: 0 };
  type Kind = keyof typeof count;
  const waiters: { n: number; kind: Kind; resolve: () => void }[] = [];
  const bump = (kind: Kind): void => {
    count[kind]++;
    for (const w of waiters.splice(0)) (count[w.kind] >= w.n ? w.resolve : () => waiters.push(w))();
  };
  const server = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.once('data', () => bump('spoke'));
    s.once('close', () => bump('closed'));
    bump('accepted');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const until = (kind: Kind, n: number): Promise<void> =>
    new Promise<void>((resolve) => (count[kind] >= n ? resolve() : waiters.push({ n, kind, resolve })));
  return {
    port: (server.address() as net.AddressInfo).port,
    until,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Resolves once `cond()` holds, checked each turn of the event loop; rejects past `ms` (a bound, not a wait). */
async function eventually(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached within the bound');
    await new Promise((r) => setImmediate(r));
  }
}

describe('connections parked mid-handshake hold no pool memory', () => {
  const PARKED = 1000;

  it(`${PARKED} client handshakes waiting on a silent server: 0 pool bytes; cancelling settles all and closes every fd`, async () => {
    const peer = await silentPeer();
    cleanups.push(() => peer.close());
    const pool = new BufferPool({ budget: 1 << 20 });
    const ac = new AbortController();
    const settled = Array.from({ length: PARKED }, () =>
      connect({ host: '127.0.0.1', port: peer.port, pool, signal: ac.signal, handshaker: { address: fake.svc.address, timeoutMs: 120_000 } }).then(
        (c) => ({ ok: c }),
        (e: unknown) => ({ err: e }),
      ),
    );
    // Every one connected; the first MAX_IN_FLIGHT hold a service stream and have sent their
    // first handshake message, the rest wait for a slot. The peer answers nothing.
    await peer.until('accepted', PARKED);
    await peer.until('spoke', MAX_IN_FLIGHT);
    expect(pool.outstanding).toBe(0);
    expect(pool.stats).toMatchObject({ gets: 0, highWater: 0 });
    ac.abort();
    const results = await Promise.all(settled);
    for (const r of results) expect('err' in r && isAltsError(r.err, 'HANDSHAKE_FAILED') && (r.err as { reason?: string }).reason).toBe('CANCELLED');
    await peer.until('closed', PARKED);
    expect(pool.outstanding).toBe(0);
  }, 60_000);

  it.each(['native', 'stream'] as const)(
    `${PARKED} silent clients on a handshaker server (%s reader): 0 pool bytes, none reaches onConn; server.close() abandons them and closes every fd`,
    async (reader) => {
      const pool = new BufferPool({ budget: 1 << 20 });
      let handled = 0;
      const server = createServer({ handshaker: { address: fake.svc.address, timeoutMs: 120_000 }, pool, reader }, () => void handled++);
      const { port } = await server.listen(0, '127.0.0.1');
      const clients = Array.from({ length: PARKED }, () => net.connect(port, '127.0.0.1').on('error', () => {}));
      await Promise.all(clients.map((s) => once(s, 'connect')));
      // Accepted, each handshake waiting for its client's first bytes.
      await eventually(() => server.pendingHandshakes === PARKED, 30_000);
      expect(pool.outstanding).toBe(0);
      expect(pool.stats).toMatchObject({ gets: 0, highWater: 0 });
      expect(server.connections.size).toBe(0);
      const closes = clients.map((s) => once(s, 'close'));
      await server.close();
      await Promise.all(closes);
      expect(server.pendingHandshakes).toBe(0);
      expect(handled).toBe(0);
      expect(pool.outstanding).toBe(0);
    },
    60_000,
  );
});

describe('close during a handshake', () => {
  it('connect: aborting the signal rejects HANDSHAKE_FAILED CANCELLED and closes the socket', async () => {
    const peer = await silentPeer();
    cleanups.push(() => peer.close());
    const ac = new AbortController();
    const p = connect({ host: '127.0.0.1', port: peer.port, signal: ac.signal, handshaker: { address: fake.svc.address } });
    await peer.until('spoke', 1);
    ac.abort();
    const err = await p.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HANDSHAKE_FAILED', reason: 'CANCELLED', fault: 'caller' });
    await peer.until('closed', 1);
  });
});
