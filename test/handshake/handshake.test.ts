import { describe, expect, it } from 'vitest';
import { createProtector } from '../../src/protector.js';
import { recordOptionsFor, runHandshake } from '../../src/handshake/index.js';
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
      const cp = createProtector(recordOptionsFor('client', c));
      const sp = createProtector(recordOptionsFor('server', s));
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

describe('runHandshake checks its arguments before anything starts', () => {
  it('TypeError / RangeError, thrown, naming the argument; the reader untouched', async () => {
    const { client, server } = await readerPair();
    const good = hsOptions('client', { address: hold.svc.address });
    expect(() => runHandshake({} as never, good)).toThrow(/"io" expected a ReadyReader/);
    expect(() => runHandshake(client, { ...good, side: 'both' as never })).toThrow(RangeError);
    expect(() => runHandshake(client, null as never)).toThrow(TypeError);
    expect(() => runHandshake(client, { ...good, maxFrameSize: 100 })).toThrow(/"maxFrameSize"/);
    expect(() => runHandshake(client, { ...good, timeoutMs: -1 })).toThrow(/"options.timeoutMs"/);
    expect(() => runHandshake(client, { ...good, signal: {} as never })).toThrow(/"signal"/);
    expect(() => runHandshake(client, { ...good, client: {} as never })).toThrow(/"client"/);
    // Still usable: nothing was started on it.
    const [c, s] = await Promise.all([runHandshake(client, good), runHandshake(server, hsOptions('server', { address: hold.svc.address }))]);
    expect(c.key).toEqual(s.key);
    client.close();
    server.close();
  });
});
