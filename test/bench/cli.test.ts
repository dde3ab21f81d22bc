/**
 * The built `alts-record` command (dist/cli.js, as npx runs it; `npm test` builds first):
 * --help succeeds, a usage error exits 2 with the usage on stderr and nothing on stdout.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const run = (...argv: string[]) => spawnSync(process.execPath, [CLI, ...argv], { encoding: 'utf8' });

describe('alts-record CLI', () => {
  it('--help prints the usage and exits 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: alts-record bench <name>/);
  });

  it.each([[['bench', 'nope']], [['bench', 'frames', '--conns', '3']], [['bench', 'idle', '--reps', 'x']], [[]]])('%j exits 2 with the usage on stderr', (argv) => {
    const r = run(...argv);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^alts-record: .+\n\nusage: alts-record bench/);
  });
});
