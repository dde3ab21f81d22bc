/**
 * A TypeScript user reaches a failed handshake's `reason` through the package entry point:
 * HandshakeError, isHandshakeError and the HandshakeFailure union are exported from it. This file
 * is typechecked with the rest (npm run typecheck): the imports, the narrowing and the
 * peerRpcVersions fields below compile only while they are exported and typed so.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, createServer, HandshakeError, isHandshakeError, type HandshakeFailure } from '../../src/index.js';
import { fakeForFile } from '../handshake/_rig.js';

const fake = fakeForFile();
const servers: net.Server[] = [];
afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

describe('the handshake error types from the package entry point', () => {
  it('a peer that hangs up mid-handshake: isHandshakeError narrows to a typed reason', async () => {
    const peer = net.createServer((s) => s.once('data', () => s.destroy()));
    servers.push(peer);
    peer.listen(0, '127.0.0.1');
    await once(peer, 'listening');
    const e: unknown = await connect({ host: '127.0.0.1', port: (peer.address() as net.AddressInfo).port, handshaker: { address: fake.svc.address } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HandshakeError);
    if (!isHandshakeError(e)) return expect.unreachable('not a HandshakeError');
    const reason: HandshakeFailure = e.reason; // compiles only with the union exported
    expect(['PEER_CLOSED', 'IO']).toContain(reason);
    expect(isHandshakeError(e, reason)).toBe(true);
    expect(e.code).toBe('HANDSHAKE_FAILED');
  });

  it('altsContext.peerRpcVersions has both bounds, typed without undefined', async () => {
    const server = createServer({ handshaker: { address: fake.svc.address } }, (c) => c.close());
    const { port } = await server.listen(0, '127.0.0.1');
    try {
      const conn = await connect({ host: '127.0.0.1', port, handshaker: { address: fake.svc.address } });
      const { maxRpcVersion, minRpcVersion } = conn.altsContext!.peerRpcVersions;
      const range: [number, number, number, number] = [maxRpcVersion.major, maxRpcVersion.minor, minRpcVersion.major, minRpcVersion.minor]; // compiles only without `?`
      expect(range).toEqual([2, 1, 2, 1]);
      conn.close();
    } finally {
      await server.close();
    }
  });
});
