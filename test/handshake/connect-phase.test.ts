/**
 * connect's `signal` and the handshake deadline cover the TCP connect, not only the handshake
 * after it. The peer is a listener whose accept queue is full: a worker thread listens with
 * backlog 1, then blocks its event loop, so it never accepts; once its queue holds the filler
 * connections (two on Linux), the kernel drops further SYNs and a connect stays pending.
 */
import net from 'node:net';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/api.js';
import { HandshakeError } from '../../src/handshake/errors.js';
import { fakeForFile } from './_rig.js';

const fake = fakeForFile();
let worker: Worker;
let wake: Int32Array;
let port = 0;
const fillers: net.Socket[] = [];

const LISTENER = `
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const s = net.createServer();
s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  parentPort.postMessage(s.address().port);
  Atomics.wait(workerData, 0, 0); // the loop is blocked: nothing is accepted until woken
  s.close();
});
`;

beforeAll(async () => {
  wake = new Int32Array(new SharedArrayBuffer(4));
  worker = new Worker(LISTENER, { eval: true, workerData: wake });
  [port] = (await once(worker, 'message')) as [number];
  // The first filler completes into the accept queue; the rest make sure it stays full.
  for (let i = 0; i < 4; i++) {
    const f = net.connect(port, '127.0.0.1');
    f.on('error', () => {});
    fillers.push(f);
  }
  await once(fillers[0]!, 'connect');
});

afterAll(async () => {
  for (const f of fillers) f.destroy();
  Atomics.store(wake, 0, 1);
  Atomics.notify(wake, 0);
  await once(worker, 'exit');
});

describe('connect while the TCP connect is pending', () => {
  it('the abort signal cancels it: HANDSHAKE_FAILED CANCELLED, the caller\'s', async () => {
    const ac = new AbortController();
    const p = connect({ host: '127.0.0.1', port, signal: ac.signal, handshaker: { address: fake.svc.address, timeoutMs: 60_000 } }).catch((e: unknown) => e);
    setImmediate(() => ac.abort(new Error('gave up')));
    const e = (await p) as HandshakeError;
    expect(e).toBeInstanceOf(HandshakeError);
    expect([e.reason, e.fault]).toEqual(['CANCELLED', 'caller']);
    expect((e.cause as Error).message).toBe('gave up');
  }, 10_000);

  it('the handshake deadline counts from the call: TIMEOUT, the peer\'s', async () => {
    const e = (await connect({ host: '127.0.0.1', port, handshaker: { address: fake.svc.address, timeoutMs: 200 } }).catch((x: unknown) => x)) as HandshakeError;
    expect(e).toBeInstanceOf(HandshakeError);
    expect([e.reason, e.fault]).toEqual(['TIMEOUT', 'peer']);
  }, 10_000);

  it('an already aborted signal: no connection attempt outlives the call; without a handshaker the AbortError', async () => {
    const e = await connect({ host: '127.0.0.1', port, signal: AbortSignal.abort(), handshaker: { address: fake.svc.address } }).catch((x: unknown) => x);
    expect((e as HandshakeError).reason).toBe('CANCELLED');
    const key = await connect({ host: '127.0.0.1', port, signal: AbortSignal.abort(), protocol: 'ALTSRP_GCM_AES128_REKEY', side: 'client', key: new Uint8Array(44) }).catch((x: unknown) => x);
    expect((key as Error).name).toBe('AbortError');
  }, 10_000);
});
