/**
 * Real-socket rig for the handshake tests: a loopback TCP connection whose two ends are taken
 * over by NativeReaders (or run by StreamReaders), the fake handshaker service, and runHandshake
 * options for either side.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll } from 'vitest';
import type { Side } from '../../src/crypto/types.js';
import { startFakeHandshaker, type FakeHandshaker } from '../../src/handshake/fake/server.js';
import { closeHandshakerClients } from '../../src/handshake/service.js';
import { resolveHandshaker, type HandshakerOptions } from '../../src/handshake/options.js';
import type { RunHandshakeOptions } from '../../src/handshake/handshake.js';
import { NativeReader } from '../../src/io/NativeReader.js';
import { StreamReader } from '../../src/io/StreamReader.js';
import type { ReadyReader } from '../../src/io/types.js';
import { loadNative } from '../../src/native.js';
import { takeOverSocket } from '../../src/native-takeover.js';

export type Kind = 'native' | 'stream';

/** Both ends of one loopback TCP connection, Node never having read a byte of either. */
export async function tcpPair(): Promise<{ client: net.Socket; server: net.Socket; close(): void }> {
  const listener = net.createServer({ pauseOnConnect: true });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const accepted = once(listener, 'connection') as Promise<[net.Socket]>;
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  client.pause();
  await once(client, 'connect');
  const [server] = await accepted;
  listener.close();
  return { client, server, close: () => (client.destroy(), server.destroy()) };
}

export function readerOn(socket: net.Socket, kind: Kind): ReadyReader {
  socket.setNoDelay(true);
  return kind === 'native' ? new NativeReader(loadNative(), takeOverSocket(socket)) : new StreamReader(socket);
}

/** Two readers on one fresh TCP connection. */
export async function readerPair(kind: Kind = 'native'): Promise<{ client: ReadyReader; server: ReadyReader }> {
  const p = await tcpPair();
  return { client: readerOn(p.client, kind), server: readerOn(p.server, kind) };
}

export function hsOptions(side: Side, h: HandshakerOptions, extra: Partial<RunHandshakeOptions> = {}): RunHandshakeOptions {
  return { ...resolveHandshaker(h, side), side, maxFrameSize: 16384, ...extra };
}

/**
 * The fake handshaker service for one test file: started before its tests, stopped (with every
 * shared service client) after them. Read `.svc` inside tests.
 */
export function fakeForFile(): { svc: FakeHandshaker } {
  const holder = {} as { svc: FakeHandshaker };
  beforeAll(async () => {
    holder.svc = await startFakeHandshaker();
  });
  afterAll(async () => {
    closeHandshakerClients();
    await holder.svc.close();
  });
  return holder;
}
