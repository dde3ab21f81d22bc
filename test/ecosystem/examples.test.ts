/**
 * The README's HTTP/2 and gRPC examples run as written: each examples/*.mjs is a child process
 * importing the built package by name ('alts-record', 'alts-record/grpc' through its
 * "exports"), so `npm test` (which builds first) keeps them true. Each exits 0 only when every
 * reply arrived intact.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

function run(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('examples', () => {
  it.each([
    ['examples/http2.mjs', /^http2 over ALTS: 8 streams, 8 MiB intact, \d+ ALTS frames opened by the client \((native|stream) reader\)$/m],
    ['examples/grpc.mjs', /^grpc over ALTS: "hello, ALTS", counted 1 2 3 4 5; the client conn opened \d+ ALTS frames \((native|stream) reader\)$/m],
  ])('%s exits 0 with its summary', async (script, summary) => {
    const { code, stdout, stderr } = await run(script);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(summary);
  });
});
