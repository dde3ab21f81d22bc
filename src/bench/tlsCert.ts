/**
 * The certificate for the TLS 1.3 baseline of the benchmarks: a fresh self-signed P-256 one,
 * made at run time with node:crypto alone (a minimal X.509 v3 in DER: CN=localhost, subjectAltName
 * localhost and 127.0.0.1, valid for two days), so no private key ships with the package and no
 * openssl CLI is needed. Its key lives only in this process.
 * @module
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

export interface TlsCert {
  cert: string;
  key: string;
  source: string;
}

/** One DER element: tag, definite length, contents. */
function der(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else if (n < 0x100) len = Buffer.from([0x81, n]);
  else len = Buffer.from([0x82, n >> 8, n & 0xff]); // a certificate is far below 64 KiB
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...p: Uint8Array[]): Buffer => der(0x30, ...p);
const oid = (hex: string): Buffer => der(0x06, Buffer.from(hex, 'hex'));
const ECDSA_SHA256 = seq(oid('2a8648ce3d040302')); // 1.2.840.10045.4.3.2
const COMMON_NAME = oid('550403'); // 2.5.4.3
const SUBJECT_ALT_NAME = oid('551d11'); // 2.5.29.17

/** UTCTime YYMMDDHHMMSSZ. */
function utcTime(d: Date): Buffer {
  return der(0x17, Buffer.from(d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z', 'ascii'));
}

function pem(label: string, body: Buffer): string {
  const b64 = body.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

export function tlsCert(now: Date = new Date()): TlsCert {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const name = seq(der(0x31, seq(COMMON_NAME, der(0x0c, Buffer.from('localhost', 'utf8')))));
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // a positive INTEGER
  serial[0]! |= 0x01; // with no leading zero byte to strip
  const san = seq(der(0x82, Buffer.from('localhost', 'ascii')), der(0x87, Buffer.from([127, 0, 0, 1])));
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))), // version v3
    der(0x02, serial),
    ECDSA_SHA256,
    name,
    seq(utcTime(new Date(now.getTime() - 3600_000)), utcTime(new Date(now.getTime() + 2 * 86400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, seq(seq(SUBJECT_ALT_NAME, der(0x04, san)))),
  );
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value
  const cert = seq(tbs, ECDSA_SHA256, der(0x03, Buffer.from([0]), signature));
  return {
    cert: pem('CERTIFICATE', cert),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    source: 'self-signed P-256, generated now with node:crypto',
  };
}
