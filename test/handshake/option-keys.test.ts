/**
 * The `handshaker` option is checked whole at every entry point, before a socket exists: an
 * unknown key (a misspelt targetServiceAccounts would turn the server identity check off) and a
 * client-only key on a server (a server does not choose its clients by it) are TypeErrors naming
 * `handshaker.<key>`. A real listener counts the connections that reach it: none may.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createServer } from '../../src/api.js';
import { runHandshake } from '../../src/handshake/handshake.js';
import { altsChannelCredentials } from '../../src/integrations/grpc.js';
import { readerOn, tcpPair } from './_rig.js';

let listener: net.Server;
let port = 0;
let accepted = 0;
beforeAll(async () => {
  listener = net.createServer((s) => {
    accepted++;
    s.destroy();
  });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  port = (listener.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => listener.close(() => r())));

const address = '127.0.0.1:1';

describe('an unknown key inside handshaker', () => {
  it('connect rejects it (TypeError naming handshaker.targetServiceAccount) before it opens a socket', async () => {
    const e = await connect({ host: '127.0.0.1', port, handshaker: { address, targetServiceAccount: 'nobody@example.test' } as never }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TypeError);
    expect((e as Error).message).toMatch(/"handshaker\.targetServiceAccount"/);
    const snake = await connect({ host: '127.0.0.1', port, handshaker: { address, target_service_accounts: ['x'] } as never }).catch((x: unknown) => x);
    expect((snake as Error).message).toMatch(/"handshaker\.target_service_accounts"/);
    expect(accepted).toBe(0);
  });

  it('createServer and altsChannelCredentials throw it', () => {
    expect(() => createServer({ handshaker: { address, timeout: 5 } as never }, () => {})).toThrow(/"handshaker\.timeout"/);
    expect(() => altsChannelCredentials({ handshaker: { address, targetServiceAccount: 'x' } as never })).toThrow(TypeError);
    expect(() => altsChannelCredentials({ handshaker: { address, targetServiceAccount: 'x' } as never })).toThrow(/"handshaker\.targetServiceAccount"/);
  });

  it('runHandshake throws it, and the reader is left open for its owner', async () => {
    const p = await tcpPair();
    const reader = readerOn(p.client, 'stream');
    expect(() => runHandshake(reader, { side: 'client', address, targetServiceAccount: 'x', maxFrameSize: 16384 } as never)).toThrow(/"targetServiceAccount"/);
    expect(p.client.destroyed).toBe(false);
    p.close();
  });
});

describe('a client-only handshaker key on a server', () => {
  it('createServer with targetServiceAccounts or targetName is a TypeError pointing at altsContext.peerServiceAccount', () => {
    expect(() => createServer({ handshaker: { address, targetServiceAccounts: ['alice@example.test'] } }, () => {})).toThrow(TypeError);
    expect(() => createServer({ handshaker: { address, targetServiceAccounts: ['alice@example.test'] } }, () => {})).toThrow(
      /"handshaker\.targetServiceAccounts".*peerServiceAccount/,
    );
    expect(() => createServer({ handshaker: { address, targetName: 'x' } }, () => {})).toThrow(/"handshaker\.targetName"/);
  });

  it('runHandshake as the server refuses them too; an empty list asks for nothing and passes', async () => {
    const p = await tcpPair();
    const reader = readerOn(p.server, 'stream');
    expect(() => runHandshake(reader, { side: 'server', address, targetServiceAccounts: ['a'], timeoutMs: 1000, maxPeerBytes: 4096, maxFrameSize: 16384 })).toThrow(/client option/);
    expect(() => createServer({ handshaker: { address, targetServiceAccounts: [] } }, () => {})).not.toThrow();
    p.close();
  });

  it('the same keys are fine on a client', async () => {
    const ac = new AbortController();
    ac.abort();
    const e = await connect({ host: '127.0.0.1', port, signal: ac.signal, handshaker: { address, targetServiceAccounts: ['a'], targetName: 't' } }).catch((x: unknown) => x);
    expect(e).not.toBeInstanceOf(TypeError);
  });
});

describe('neither handshaker nor key', () => {
  it('connect, createServer and altsChannelCredentials ask for the handshaker, not for a protocol', async () => {
    const want = /give handshaker: \{ address \} \(or protocol, side and key\)/;
    const e = await connect({ host: '127.0.0.1', port } as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TypeError);
    expect((e as Error).message).toMatch(want);
    expect(() => createServer({}, () => {})).toThrow(want);
    expect(() => altsChannelCredentials({})).toThrow(want);
    expect(accepted).toBe(0);
  });

  it('connect with handshaker and unsafeSharedKey says what createServer says', async () => {
    const e = await connect({ host: '127.0.0.1', port, handshaker: { address }, unsafeSharedKey: true } as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TypeError);
    expect((e as Error).message).toMatch(/"unsafeSharedKey" is not an option with "handshaker"/);
    expect(() => createServer({ handshaker: { address }, unsafeSharedKey: true }, () => {})).toThrow(/"unsafeSharedKey" is not an option with "handshaker"/);
    expect(accepted).toBe(0);
  });
});
