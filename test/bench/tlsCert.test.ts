/**
 * The benchmarks' TLS baseline certificate is made at run time with node:crypto: a real TLS 1.3
 * handshake on loopback accepts it when the client trusts exactly it (hostname localhost), and it
 * parses as the self-signed X.509 v3 it claims to be.
 */
import { once } from 'node:events';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tlsCert } from '../../src/bench/tlsCert.js';

describe('tlsCert', () => {
  it('is a fresh self-signed localhost certificate a TLS 1.3 client that trusts it accepts', async () => {
    const a = tlsCert();
    const x = new X509Certificate(a.cert);
    expect(x.subject).toBe('CN=localhost');
    expect(x.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkPrivateKey((await import('node:crypto')).createPrivateKey(a.key))).toBe(true);
    expect(new Date(x.validFrom).getTime()).toBeLessThan(Date.now());
    expect(new Date(x.validTo).getTime()).toBeGreaterThan(Date.now() + 86400_000);
    expect(tlsCert().cert).not.toBe(a.cert);

    const server = tls.createServer({ cert: a.cert, key: a.key, minVersion: 'TLSv1.3' }, (s) => s.end('hello over TLS'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const c = tls.connect({ port, host: '127.0.0.1', ca: a.cert, servername: 'localhost', minVersion: 'TLSv1.3' });
    let got = '';
    c.on('data', (d) => (got += d));
    await once(c, 'end');
    expect(c.authorized).toBe(true);
    expect(got).toBe('hello over TLS');
    c.destroy();
    server.close();
  });
});
