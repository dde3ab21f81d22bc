/**
 * altsChannelCredentials (src/integrations/grpc.ts) on its own: option checks, what grpc-js
 * asks of credentials (secure, equality, the secure connector's parts), a throwing onConn, and
 * the stream-reader fallback when Node has already read from the socket it is given.
 */
import * as grpc from '@grpc/grpc-js';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { isAltsError } from '../../src/errors.js';
import { altsChannelCredentials } from '../../src/integrations/grpc.js';
import { createProtector } from '../../src/protector.js';
import { closeOf, newKey, protocol } from './_helpers.js';
import { BytesClient, type Client, rpcError, startServer, stopRig, unary } from './_grpcRig.js';

afterEach(stopRig);

/**
 * A client socket with bytes in Node's buffer, unread by anyone: the peer sent one frame
 * ("early bytes") and its FIN. The peer ignores a reset (a connector that fails closes abortively).
 */
async function earlyBytesSocket(): Promise<{ key: Uint8Array; tcp: net.Server; socket: net.Socket }> {
  const key = newKey();
  const peer = createProtector({ protocol, side: 'server', key });
  const tcp = net.createServer((s) => {
    s.on('error', () => {});
    s.end(peer.protect(new TextEncoder().encode('early bytes')));
  });
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  const socket = net.connect((tcp.address() as net.AddressInfo).port, '127.0.0.1');
  await once(socket, 'readable');
  return { key, tcp, socket };
}

describe('altsChannelCredentials', () => {
  it('closes the conn when onConn throws, and the RPC fails UNAVAILABLE', async () => {
    const r = await startServer();
    const conns: AltsConn[] = [];
    const creds = altsChannelCredentials({
      protocol,
      key: r.key,
      // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
      unsafeSharedKey: true,
      onConn: (c) => {
        conns.push(c);
        r.closes.push(closeOf(c));
        throw new Error('onConn refused');
      },
    });
    const client = new BytesClient(`127.0.0.1:${r.port}`, creds) as Client;
    const err = await rpcError(unary(client, Buffer.from('hi')));
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    client.close();
    await Promise.all(r.closes);
    expect(conns.length).toBeGreaterThan(0);
    for (const c of conns) expect(c.state).toBe('closed');
  });

  it('checks its options: types, and the key before any connection', () => {
    expect(() => altsChannelCredentials(null as never)).toThrow(TypeError);
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    expect(() => altsChannelCredentials({ protocol, key: newKey(), unsafeSharedKey: true, onConn: 1 as never })).toThrow(TypeError);
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    expect(() => altsChannelCredentials({ protocol, key: newKey(), unsafeSharedKey: true, reader: 'poll' as never })).toThrow(RangeError);
    let err: unknown = null;
    try {
      // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
      altsChannelCredentials({ protocol, key: new Uint8Array(16), unsafeSharedKey: true });
    } catch (e) {
      err = e;
    }
    expect(isAltsError(err, 'BAD_KEY')).toBe(true);
  });

  it('is secure (composes with call credentials) and equal only to itself', () => {
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    const a = altsChannelCredentials({ protocol, key: newKey(), unsafeSharedKey: true });
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    const b = altsChannelCredentials({ protocol, key: newKey(), unsafeSharedKey: true });
    expect(a._isSecure()).toBe(true);
    expect(a._equals(a)).toBe(true);
    expect(a._equals(b)).toBe(false);
    expect(a._equals(grpc.credentials.createInsecure())).toBe(false);
  });

  it("an explicit reader: 'native' is a requirement: a socket Node has read from is a RangeError, and the socket is closed", async () => {
    const { key, tcp, socket } = await earlyBytesSocket(); // the native reader cannot take it
    const conns: AltsConn[] = [];
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    const creds = altsChannelCredentials({ protocol, key, unsafeSharedKey: true, reader: 'native', onConn: (c) => conns.push(c) });
    const connector = creds._createSecureConnector({ path: '127.0.0.1' }, {});
    await expect(connector.connect(socket)).rejects.toThrow(RangeError);
    expect(conns).toEqual([]);
    expect(socket.destroyed).toBe(true);
    tcp.close();
    await once(tcp, 'close');
  });

  it('falls back to the stream reader, losing nothing, when Node has already read from the socket', async () => {
    const { key, tcp, socket } = await earlyBytesSocket();
    expect(socket.readableLength).toBeGreaterThan(0);

    const conns: AltsConn[] = [];
    // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
    const creds = altsChannelCredentials({ protocol, key, unsafeSharedKey: true, onConn: (c) => conns.push(c) });
    const connector = creds._createSecureConnector({ path: '127.0.0.1' }, {});
    await connector.waitForReady();
    expect(connector.getCallCredentials()).toBeInstanceOf(grpc.CallCredentials);
    const { socket: duplex, secure } = await connector.connect(socket);
    expect(secure).toBe(true);
    expect(conns.map((c) => c.reader)).toEqual(['stream']);
    let text = '';
    for await (const d of duplex) text += String(d);
    expect(text).toBe('early bytes');
    connector.destroy();
    duplex.destroy();
    tcp.close();
    await once(tcp, 'close');
  });
});
