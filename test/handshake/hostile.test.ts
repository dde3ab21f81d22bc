/**
 * Hostile handshakes on real sockets (docs/handshake.md §5, §6): a misbehaving service, a
 * misbehaving peer, no service at all. Each ends in HANDSHAKE_FAILED with its reason (a reason
 * other than TIMEOUT means it failed before the deadline), the reader's fd closed, the peer
 * seeing the connection end, and no unhandled rejection.
 */
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AltsError } from '../../src/errors.js';
import { HandshakeError, type HandshakeFailure } from '../../src/handshake/errors.js';
import { runHandshake, type RunHandshakeOptions } from '../../src/handshake/handshake.js';
import type { HandshakerReq } from '../../src/handshake/messages.js';
import { HandshakerClient } from '../../src/handshake/service.js';
import type { NativeReader } from '../../src/io/NativeReader.js';
import type { HandshakerOptions } from '../../src/handshake/options.js';
import { hostileService, type HostileCall } from './_hostile.js';
import { fakeForFile, hsOptions, readerOn, tcpPair } from './_rig.js';

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
const hold = fakeForFile();
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterEach(() => expect(unhandled).toEqual([]));
afterAll(() => void process.off('unhandledRejection', onUnhandled));

const goodResult = { applicationProtocol: 'grpc', recordProtocol: 'ALTSRP_GCM_AES128_REKEY', keyData: new Uint8Array(44), peerIdentity: { serviceAccount: 'p@x' }, peerRpcVersions: { maxRpcVersion: { major: 2, minor: 1 }, minRpcVersion: { major: 2, minor: 1 } } };

/**
 * Run one `side` handshake on a native reader over TCP; the other end is a plain net.Socket the
 * test drives (`peer`). Resolves with the error, after checking the fd is closed and the peer
 * saw the end.
 */
async function failing(side: 'client' | 'server', h: HandshakerOptions, peer: (s: net.Socket) => void = () => {}, extra: Partial<RunHandshakeOptions> = {}): Promise<HandshakeError> {
  const p = await tcpPair();
  const [mine, theirs] = side === 'client' ? [p.client, p.server] : [p.server, p.client];
  const reader = readerOn(mine, 'native') as NativeReader;
  theirs.resume();
  theirs.on('error', () => {}); // our end may close with the peer's bytes unread: a reset
  const peerEnded = new Promise((resolve) => theirs.once('close', resolve)); // not once(): it rejects on 'error'
  peer(theirs);
  const err = await runHandshake(reader, hsOptions(side, h, extra)).then(
    () => expect.unreachable('the handshake succeeded'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HandshakeError);
  expect((err as AltsError).code).toBe('HANDSHAKE_FAILED');
  expect(reader.fd).toBe(-1);
  theirs.end();
  await peerEnded;
  return err as HandshakeError;
}

async function withService(
  on: (req: HandshakerReq, call: HostileCall, n: number) => void,
  side: 'client' | 'server' = 'client',
  peer?: (s: net.Socket) => void,
  timeoutMs = 5000,
): Promise<HandshakeError> {
  const svc = await hostileService(on);
  try {
    return await failing(side, { address: svc.address, timeoutMs }, peer);
  } finally {
    svc.close();
  }
}

const expectReason = (e: HandshakeError, reason: HandshakeFailure, fault: string) => expect([e.reason, e.fault]).toEqual([reason, fault]);

describe('a hostile handshaker service', () => {
  it('a short key: SHORT_KEY', async () => {
    expectReason(await withService((_, c) => c.reply({ result: { ...goodResult, keyData: new Uint8Array(43) } })), 'SHORT_KEY', 'local');
  });

  it('an OK result for a peer not among targetServiceAccounts: PEER_IDENTITY, local', async () => {
    const svc = await hostileService((_, c) => c.reply({ result: goodResult })); // peer 'p@x', whatever was asked
    try {
      expectReason(await failing('client', { address: svc.address, targetServiceAccounts: ['alice@x'], timeoutMs: 5000 }), 'PEER_IDENTITY', 'local');
    } finally {
      svc.close();
    }
  });

  it('an unknown record protocol: UNKNOWN_RECORD_PROTOCOL', async () => {
    expectReason(await withService((_, c) => c.reply({ result: { ...goodResult, recordProtocol: 'ALTSRP_CHACHA' } })), 'UNKNOWN_RECORD_PROTOCOL', 'local');
  });

  it('bytes_consumed beyond its input (server side, after the client\'s first bytes): BYTES_CONSUMED', async () => {
    const e = await withService((req, c) => c.reply({ bytesConsumed: (req.serverStart?.inBytes?.length ?? 0) + 1 }), 'server', (s) => s.write('hello'));
    expectReason(e, 'BYTES_CONSUMED', 'local');
  });

  it('an error status refusing our own start (no peer bytes): SERVICE_STATUS, local, the status as an Error cause', async () => {
    const e = await withService((_, c) => c.reply({ status: { code: 7, details: 'no' } }));
    expectReason(e, 'SERVICE_STATUS', 'local');
    expect(e.cause).toBeInstanceOf(Error);
    expect(e.cause).toMatchObject({ code: 7, details: 'no' });
    expect(e.message).toContain('7 PERMISSION_DENIED: no');
  });

  it('an error status refusing the peer\'s bytes: SERVICE_STATUS, the peer\'s', async () => {
    const e = await withService((_, c) => c.reply({ status: { code: 3, details: 'bad frame' } }), 'server', (s) => s.write('hello'));
    expectReason(e, 'SERVICE_STATUS', 'peer');
    expect(e.cause).toMatchObject({ code: 3, details: 'bad frame' });
  });

  it('a response that does not decode: BAD_RESPONSE', async () => {
    expectReason(await withService((_, c) => c.replyRaw(Uint8Array.of(0x0a, 0x7f))), 'BAD_RESPONSE', 'local');
  });

  it('a second response to one request, while waiting for the peer: BAD_RESPONSE, not an exception out of the stream', async () => {
    const e = await withService((_, c, n) => {
      if (n > 0) return;
      c.reply({ outFrames: Uint8Array.of(1, 2, 3) });
      c.reply({ outFrames: Uint8Array.of(4) });
    });
    expectReason(e, 'BAD_RESPONSE', 'local');
  });

  it('a second response on the server side, while waiting for the client: BAD_RESPONSE', async () => {
    const e = await withService((_, c, n) => {
      if (n > 0) return;
      c.reply({ outFrames: Uint8Array.of(1, 2, 3), bytesConsumed: 1 });
      c.reply({ outFrames: Uint8Array.of(4) });
    }, 'server', (s) => s.write('x'));
    expectReason(e, 'BAD_RESPONSE', 'local');
  });

  it('no result ever: TIMEOUT, blamed on the service', async () => {
    const e = await withService((_, c, n) => n === 0 && c.reply({ outFrames: new Uint8Array(0) }), 'client', (s) => s.write('x'), 300);
    expectReason(e, 'TIMEOUT', 'local');
  });

  it('the stream closed without a result: SERVICE_CLOSED', async () => {
    expectReason(await withService((_, c) => c.end()), 'SERVICE_CLOSED', 'local');
  });

  it('the stream failed with a gRPC error: SERVICE_UNREACHABLE with it as cause', async () => {
    const e = await withService((_, c) => c.fail(13, 'internal'));
    expectReason(e, 'SERVICE_UNREACHABLE', 'local');
    expect((e.cause as { code: number }).code).toBe(13);
  });

  it('a service client already closed: SERVICE_UNREACHABLE, not an exception out of a microtask', async () => {
    const client = new HandshakerClient(hold.svc.address);
    client.close();
    expectReason(await failing('client', { address: hold.svc.address }, () => {}, { client }), 'SERVICE_UNREACHABLE', 'local');
  });

  it('no service listening: SERVICE_UNREACHABLE before the deadline', async () => {
    const l = net.createServer().listen(0, '127.0.0.1');
    await once(l, 'listening');
    const port = (l.address() as net.AddressInfo).port;
    await new Promise((r) => l.close(r));
    const e = await failing('client', { address: `127.0.0.1:${port}`, timeoutMs: 10_000 });
    expectReason(e, 'SERVICE_UNREACHABLE', 'local');
    expect(e.message).toContain(`the handshaker service at 127.0.0.1:${port} failed: 14 UNAVAILABLE`);
  });

  it('a gRPC server that is not a handshaker: SERVICE_UNREACHABLE saying so (12 UNIMPLEMENTED)', async () => {
    const g = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) => g.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    try {
      const e = await failing('client', { address: `127.0.0.1:${port}`, timeoutMs: 10_000 });
      expectReason(e, 'SERVICE_UNREACHABLE', 'local');
      expect(e.message).toContain(`127.0.0.1:${port} is not a handshaker service (12 UNIMPLEMENTED`);
    } finally {
      g.forceShutdown();
    }
  });
});

describe('a hostile peer (the real fake service)', () => {
  it('garbage (an HTTP request) at the server: SERVICE_STATUS, peer', async () => {
    expectReason(await failing('server', { address: hold.svc.address }, (s) => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), 'SERVICE_STATUS', 'peer');
  });

  it('a peer that stalls: TIMEOUT, blamed on the peer', async () => {
    expectReason(await failing('client', { address: hold.svc.address, timeoutMs: 300 }), 'TIMEOUT', 'peer');
  });

  it('a peer that closes mid-handshake: PEER_CLOSED', async () => {
    expectReason(await failing('server', { address: hold.svc.address }, (s) => s.end()), 'PEER_CLOSED', 'peer');
  });

  it('a peer that floods (a frame that never ends): PEER_FLOOD at maxPeerBytes', async () => {
    const hdr = Buffer.alloc(5);
    hdr.writeUInt32LE(16 * 1024, 0); // a frame the fake waits for whole
    hdr[4] = 1;
    const e = await failing('server', { address: hold.svc.address, maxPeerBytes: 4096 }, (s) => {
      s.write(hdr);
      s.write(Buffer.alloc(12 * 1024, 0x41));
    });
    expectReason(e, 'PEER_FLOOD', 'peer');
  });

  it('a peer that resets the connection: IO, the socket error as cause', async () => {
    const e = await failing('client', { address: hold.svc.address }, (s) => s.once('data', () => s.resetAndDestroy()));
    expectReason(e, 'IO', 'io');
    expect((e.cause as AltsError).code).toBe('IO_ERROR');
  });

  it('the last handshake message cannot be written: IO, and the reader is closed', async () => {
    const p = await tcpPair();
    const reader = readerOn(p.client, 'native') as NativeReader;
    const server = readerOn(p.server, 'native');
    const write = reader.write.bind(reader);
    let n = 0;
    // The client's 2nd write is ClientFinished: it fails as a reset would fail it.
    reader.write = (d, done, t) => (++n === 2 ? done(new AltsError('IO_ERROR', 'write: ECONNRESET', { errno: 'ECONNRESET' })) : write(d, done, t));
    const serverSide = runHandshake(server, hsOptions('server', { address: hold.svc.address, timeoutMs: 300 })).catch((x: unknown) => x);
    const e = await runHandshake(reader, hsOptions('client', { address: hold.svc.address })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HandshakeError);
    expectReason(e as HandshakeError, 'IO', 'io');
    expect(reader.fd).toBe(-1);
    // The server never got ClientFinished: its peer closed.
    expect((await serverSide as HandshakeError).reason).toBe('PEER_CLOSED');
  });

  it('cancellation (an aborted signal, before or during): CANCELLED, the caller\'s', async () => {
    const ac = new AbortController();
    const during = failing('client', { address: hold.svc.address }, () => {}, { signal: ac.signal });
    setImmediate(() => ac.abort(new Error('closed')));
    const e = await during;
    expectReason(e, 'CANCELLED', 'caller');
    expect((e.cause as Error).message).toBe('closed');
    expectReason(await failing('client', { address: hold.svc.address }, () => {}, { signal: AbortSignal.abort() }), 'CANCELLED', 'caller');
  });
});
