/**
 * The README's snippets and the examples run as written: each ```js block of README.md (every
 * one is a whole program) and each examples/*.mjs is a child process importing the built
 * package by name ('alts-record', 'alts-record/grpc' through its "exports"), so `npm test`
 * (which builds first) keeps them true. Each must end by itself, exit 0 and print nothing on
 * stderr (no warning, no unhandled rejection).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `script` (a file), or `source` as an ES module read from stdin, from the package root. */
function run(script: string, source?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const args = source === undefined ? [script] : ['--input-type=module'];
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
    child.stdin.end(source ?? '');
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

/** The ```js blocks of README.md, in order. */
function readmeSnippets(readme: string): string[] {
  return [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

describe('README snippets', () => {
  const snippets = readmeSnippets(readFileSync(`${root}README.md`, 'utf8'));

  it('there are three, Use, HTTP/2 and gRPC, and no code block of another language that could not run', () => {
    expect(snippets).toHaveLength(3);
    const fences = [...readFileSync(`${root}README.md`, 'utf8').matchAll(/^```(\w+)$/gm)].map((m) => m[1]);
    expect(new Set(fences)).toEqual(new Set(['sh', 'js']));
  });

  it.each([
    ['Use', 0, /^echoed "hello" over the (native|stream) reader\n$/],
    ['HTTP/2', 1, /^hello over HTTP\/2 over ALTS\n$/],
    ['gRPC', 2, /^hello, ALTS \(caller@example\.test\)\n$/],
  ])('the %s snippet runs as pasted and ends by itself', async (_name, i, out) => {
    const { code, stdout, stderr } = await run('', snippets[i]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(out);
  });
});
