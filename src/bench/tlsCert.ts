/**
 * The certificate for the TLS 1.3 baseline: a fresh self-signed P-256 one made by the openssl
 * CLI when it is on PATH, else the committed TEST-ONLY fixture (bench/fixtures/, a public key
 * pair for loopback benchmarks, never for anything else). Null when neither is available: the
 * benches then skip TLS and say so.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TlsCert {
  cert: string;
  key: string;
  source: string;
}

/** bench/fixtures at the package root: the same path from src/bench and dist/bench. */
const FIXTURES = fileURLToPath(new URL('../../bench/fixtures/', import.meta.url));

function generated(): TlsCert | null {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alts-bench-cert-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    const r = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile,
        '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      { stdio: 'ignore' },
    );
    if (r.status !== 0) return null;
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), source: 'generated now by the openssl CLI (P-256)' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fixture(): TlsCert | null {
  const certFile = path.join(FIXTURES, 'test-only-cert.pem');
  const keyFile = path.join(FIXTURES, 'test-only-key.pem');
  if (!existsSync(certFile) || !existsSync(keyFile)) return null;
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), source: 'the test-only fixture bench/fixtures/ (no openssl CLI)' };
}

export function tlsCert(): TlsCert | null {
  return generated() ?? fixture();
}
