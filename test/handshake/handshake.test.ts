import { describe, expect, it } from 'vitest';
import { createProtector } from '../../src/protector.js';
import { runHandshake } from '../../src/handshake/handshake.js';
import { fakeForFile, hsOptions, readerPair } from './_rig.js';

const hold = fakeForFile();

describe('runHandshake over loopback TCP, both ends through the fake handshaker service', () => {
  for (const kind of ['native', 'stream'] as const) {
    it(`${kind} reader: both ends get one fresh key, each other's identity, and a record frame goes through`, async () => {
      const { client, server } = await readerPair(kind);
      const [c, s] = await Promise.all([
        runHandshake(client, hsOptions('client', { address: hold.svc.address, localServiceAccount: 'alice@x', targetServiceAccounts: ['bob@x'] })),
        runHandshake(server, hsOptions('server', { address: hold.svc.address, localServiceAccount: 'bob@x' })),
      ]);
      expect(c.key).toEqual(s.key);
      expect(c.key.length).toBe(44);
      expect(c.recordProtocol).toBe('ALTSRP_GCM_AES128_REKEY');
      expect(c.altsContext).toMatchObject({ peerServiceAccount: 'bob@x', localServiceAccount: 'alice@x', applicationProtocol: 'grpc', securityLevel: 'INTEGRITY_AND_PRIVACY' });
      expect(s.altsContext).toMatchObject({ peerServiceAccount: 'alice@x', localServiceAccount: 'bob@x' });
      expect(c.maxFrameSize).toBe(16384);
      const cp = createProtector({ protocol: c.recordProtocol, side: 'client', key: c.key, maxFrameSize: c.maxFrameSize });
      const sp = createProtector({ protocol: s.recordProtocol, side: 'server', key: s.key, maxFrameSize: s.maxFrameSize, protected: s.leftover });
      expect(new TextDecoder().decode(sp.unprotect(cp.protect(new TextEncoder().encode('hello'))))).toBe('hello');
      client.close();
      server.close();
    });
  }

  it('two connections get different keys', async () => {
    const keys: Uint8Array[] = [];
    for (let i = 0; i < 2; i++) {
      const { client, server } = await readerPair();
      const [c] = await Promise.all([runHandshake(client, hsOptions('client', { address: hold.svc.address })), runHandshake(server, hsOptions('server', { address: hold.svc.address }))]);
      keys.push(c.key);
      client.close();
      server.close();
    }
    expect(keys[0]).not.toEqual(keys[1]);
  });
});
