import { describe, expect, it } from 'vitest';
import { runHandshake } from '../../src/handshake/handshake.js';
import { Limiter } from '../../src/handshake/limiter.js';
import { DEFAULT_MAX_PEER_BYTES, DEFAULT_TIMEOUT_MS, resolveFrameSize, resolveHandshaker } from '../../src/handshake/options.js';
import { DEFAULT_HANDSHAKER_ADDRESS, HandshakerClient, MAX_IN_FLIGHT } from '../../src/handshake/service.js';
import { isHandshakeError } from '../../src/handshake/errors.js';
import { fakeForFile, hsOptions, readerPair } from './_rig.js';

const hold = fakeForFile();

const tick = () => new Promise<void>((r) => queueMicrotask(r));

describe('Limiter: at most max in flight, the rest FIFO', () => {
  it('grants in arrival order as slots free, and a waiter that leaves is skipped', async () => {
    const l = new Limiter(2);
    const order: number[] = [];
    const slots = [0, 1, 2, 3, 4].map((i) => l.acquire(() => order.push(i)));
    await tick();
    expect(order).toEqual([0, 1]);
    expect([l.inFlight, l.waiting]).toEqual([2, 3]);
    slots[3]!.release(); // leaves the queue
    slots[0]!.release();
    slots[0]!.release(); // idempotent
    await tick();
    expect(order).toEqual([0, 1, 2]);
    slots[1]!.release();
    await tick();
    expect(order).toEqual([0, 1, 2, 4]);
    slots[2]!.release();
    slots[4]!.release();
    expect([l.inFlight, l.waiting]).toEqual([0, 0]);
  });

  it('a grant never runs inside the release that freed it', () => {
    const l = new Limiter(1);
    const a = l.acquire(() => {});
    let granted = false;
    l.acquire(() => (granted = true));
    a.release();
    expect(granted).toBe(false);
  });

  it('checks its bound', () => {
    expect(() => new Limiter(0)).toThrow(RangeError);
  });
});

describe('handshakes in flight to one service', () => {
  it('the default bound is grpc-go\'s 100', () => {
    const c = new HandshakerClient(hold.svc.address);
    expect([c.limiters.client.max, c.limiters.server.max]).toEqual([MAX_IN_FLIGHT, MAX_IN_FLIGHT]);
    expect(MAX_IN_FLIGHT).toBe(100);
    c.close();
  });

  it('with a bound of 1 per side, a second connection waits for the first and then completes (both ends in one process: no deadlock)', async () => {
    const client = new HandshakerClient(hold.svc.address, { maxInFlight: 1 });
    const a = await readerPair();
    const b = await readerPair();
    const first = Promise.all([
      runHandshake(a.client, hsOptions('client', { address: hold.svc.address }, { client })),
      runHandshake(a.server, hsOptions('server', { address: hold.svc.address }, { client })),
    ]);
    const second = Promise.all([
      runHandshake(b.client, hsOptions('client', { address: hold.svc.address }, { client })),
      runHandshake(b.server, hsOptions('server', { address: hold.svc.address }, { client })),
    ]);
    await tick();
    const { client: cl, server: sl } = client.limiters;
    // The servers take a slot only once their client's first bytes arrive.
    expect([cl.inFlight, cl.waiting, sl.inFlight, sl.waiting]).toEqual([1, 1, 0, 0]);
    const [[ac, as], [bc, bs]] = await Promise.all([first, second]);
    expect(ac.key).toEqual(as.key);
    expect(bc.key).toEqual(bs.key);
    expect([cl.inFlight, cl.waiting, sl.inFlight, sl.waiting]).toEqual([0, 0, 0, 0]);
    for (const r of [a.client, a.server, b.client, b.server]) r.close();
    client.close();
  });

  it('120 connections at once on the default bound: 100 client handshakes in flight, 20 waiting, all complete with their own keys', async () => {
    const client = new HandshakerClient(hold.svc.address);
    const pairs = await Promise.all(Array.from({ length: 120 }, () => readerPair()));
    const runs = pairs.map((p) =>
      Promise.all([
        runHandshake(p.client, hsOptions('client', { address: hold.svc.address }, { client })),
        runHandshake(p.server, hsOptions('server', { address: hold.svc.address }, { client })),
      ]),
    );
    await tick();
    expect([client.limiters.client.inFlight, client.limiters.client.waiting]).toEqual([100, 20]);
    const done = await Promise.all(runs);
    for (const [c, s] of done) expect(c.key).toEqual(s.key);
    expect(new Set(done.map(([c]) => Buffer.from(c.key).toString('hex'))).size).toBe(120);
    for (const p of pairs) (p.client.close(), p.server.close());
    client.close();
  });

  it('servers waiting for their clients\' first bytes hold no slot and no stream: 1000 of them parked, a bound of 1, and another connection still completes', async () => {
    const client = new HandshakerClient(hold.svc.address, { maxInFlight: 1 });
    const streamsBefore = hold.svc.streams;
    const parked = await Promise.all(Array.from({ length: 1000 }, () => readerPair()));
    const ac = new AbortController();
    const waiting = parked.map((p) => runHandshake(p.server, hsOptions('server', { address: hold.svc.address }, { client, signal: ac.signal })).catch((e: unknown) => e));
    const live = await readerPair();
    const [c, s] = await Promise.all([
      runHandshake(live.client, hsOptions('client', { address: hold.svc.address }, { client })),
      runHandshake(live.server, hsOptions('server', { address: hold.svc.address }, { client })),
    ]);
    expect(c.key).toEqual(s.key);
    expect(hold.svc.streams - streamsBefore).toBe(2); // the live pair's only
    expect([client.limiters.server.inFlight, client.limiters.server.waiting]).toEqual([0, 0]);
    ac.abort();
    for (const e of await Promise.all(waiting)) expect(isHandshakeError(e, 'CANCELLED')).toBe(true);
    for (const p of parked) p.client.close();
    live.client.close();
    live.server.close();
    client.close();
  });

  it('a handshake waiting for a slot times out and leaves the queue (blamed on the local side)', async () => {
    const client = new HandshakerClient(hold.svc.address, { maxInFlight: 1 });
    const hog = client.slot('client', () => {});
    const p = await readerPair();
    const err = await runHandshake(p.client, hsOptions('client', { address: hold.svc.address, timeoutMs: 50 }, { client })).catch((e: unknown) => e);
    expect(isHandshakeError(err, 'TIMEOUT')).toBe(true);
    expect((err as { fault: string }).fault).toBe('local');
    expect(client.limiters.client.waiting).toBe(0);
    hog.release();
    p.server.close();
    client.close();
  });
});

describe('the handshaker option, checked before any socket', () => {
  it('defaults: grpc-go\'s service address, 20 s, 64 KiB', () => {
    expect(resolveHandshaker({}, 'client')).toEqual({ address: DEFAULT_HANDSHAKER_ADDRESS, targetServiceAccounts: [], timeoutMs: DEFAULT_TIMEOUT_MS, maxPeerBytes: DEFAULT_MAX_PEER_BYTES });
    expect(DEFAULT_HANDSHAKER_ADDRESS).toBe('metadata.google.internal.:8080');
    expect(resolveHandshaker({ address: '[::1]:9', localServiceAccount: 'a', targetName: 't', targetServiceAccounts: ['b'] }, 'client')).toMatchObject({ address: '[::1]:9', localServiceAccount: 'a', targetName: 't', targetServiceAccounts: ['b'] });
  });

  it('TypeError for a wrong type, RangeError for a wrong value, naming the field', () => {
    expect(() => resolveHandshaker(null, 'client')).toThrow(/"handshaker" expected object/);
    expect(() => resolveHandshaker('x', 'client')).toThrow(TypeError);
    expect(() => resolveHandshaker({ address: 5 }, 'client')).toThrow(/"handshaker.address" expected string/);
    expect(() => resolveHandshaker({ address: 'nohost' }, 'client')).toThrow(RangeError);
    expect(() => resolveHandshaker({ address: 'h:65536' }, 'client')).toThrow(RangeError);
    expect(() => resolveHandshaker({ targetServiceAccounts: 'a' }, 'client')).toThrow(TypeError);
    expect(() => resolveHandshaker({ targetServiceAccounts: [1] }, 'client')).toThrow(/targetServiceAccounts\[0\]/);
    expect(() => resolveHandshaker({ localServiceAccount: 1 }, 'client')).toThrow(TypeError);
    expect(() => resolveHandshaker({ targetName: 1 }, 'client')).toThrow(TypeError);
    expect(() => resolveHandshaker({ timeoutMs: 0 }, 'client')).toThrow(/"handshaker.timeoutMs"/);
    expect(() => resolveHandshaker({ timeoutMs: '1' }, 'client')).toThrow(TypeError);
    expect(() => resolveHandshaker({ maxPeerBytes: 10 }, 'client')).toThrow(RangeError);
    expect(resolveFrameSize(undefined)).toBe(16384);
    expect(() => resolveFrameSize(100)).toThrow(RangeError);
    expect(() => new HandshakerClient('')).toThrow(TypeError);
  });
});
