// Shared by scripts/native-asan.mjs and scripts/native-coverage.mjs: builds a variant of the
// alts_native addon (ASan, gcov, a -g build for valgrind) out of tree, in build-variants/<name>/,
// and runs the addon's tests against it through the loader's ALTS_NATIVE_ADDON override.
// build/Release is never touched: other builds and test runs use it while this one runs.
// The sources are whatever binding.gyp lists at run time (copied with the gyp file), so sources
// added later are built and covered without editing this script.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** The package root (this file is scripts/_native-variant.mjs). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every target's `sources` in binding.gyp (a Python literal: comments, maybe single quotes). */
export function gypSources() {
  const r = spawnSync(
    'python3',
    ['-c', 'import ast,json,sys; print(json.dumps(ast.literal_eval(open(sys.argv[1]).read())))', join(ROOT, 'binding.gyp')],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`cannot read binding.gyp: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout).targets.flatMap((t) => t.sources ?? []);
}

/**
 * Builds binding.gyp in build-variants/<name>/ with extra compiler/linker flags (appended after
 * the gyp flags by the generated Makefile, so -O0 overrides -O3). Returns the .node and the dir
 * holding its object files. Throws, with node-gyp's output, if the build fails.
 */
export function buildVariant(name, { cflags, ldflags }) {
  const dir = join(ROOT, 'build-variants', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'binding.gyp'), join(dir, 'binding.gyp'));
  // The directories of the listed sources, whole (their headers come along).
  for (const d of new Set(gypSources().map((s) => dirname(s)))) {
    cpSync(join(ROOT, d), join(dir, d), { recursive: true });
  }
  const prefix = dirname(dirname(process.execPath));
  const args = [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild'];
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
  const flags = cflags.join(' ');
  const started = Date.now();
  // cwd inside the package: binding.gyp's `node -p "require('node-addon-api')..."` resolves from there.
  const r = spawnSync(process.execPath, args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CFLAGS: flags, CXXFLAGS: flags, LDFLAGS: ldflags.join(' ') },
  });
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    throw new Error(`the ${name} build of the addon failed (node-gyp exit ${r.status})`);
  }
  const addon = join(dir, 'build', 'Release', 'alts_native.node');
  const objDir = join(dir, 'build', 'Release', 'obj.target', 'alts_native');
  console.log(`${name}: built ${relative(ROOT, addon)} from ${gypSources().join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { dir, addon, objDir };
}

function testFilesUnder(rel) {
  const abs = join(ROOT, rel);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true })
    .map((f) => join(rel, String(f)))
    .filter((f) => f.endsWith('.test.ts') && statSync(join(ROOT, f)).isFile())
    .sort();
}

/**
 * The tests that drive the addon: test/native/**, the conn tests that use it on real sockets,
 * and the record/crypto tests (the OpenSSL backend lives in the addon once it is built there).
 */
export function addonTestFiles() {
  return [
    ...testFilesUnder('test/native'),
    ...['test/conn/readiness.test.ts', 'test/conn/errors.test.ts', 'test/conn/paths.test.ts'],
    ...testFilesUnder('test/record'),
    ...testFilesUnder('test/crypto'),
  ];
}

/**
 * `vitest run` over `files` with `env` added, in a fresh process tree. Returns the exit status
 * and the JSON reporter's counts (null when vitest died before writing them).
 */
export function runVitest(files, env, { pool = 'forks', jsonFile }) {
  rmSync(jsonFile, { force: true });
  const vitest = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
  const config = join(ROOT, 'scripts', 'vitest.native-variant.config.mjs');
  const args = [vitest, 'run', '--config', config, '--pool', pool, '--reporter=default', '--reporter=json', `--outputFile.json=${jsonFile}`, ...files];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
  let counts = null;
  if (existsSync(jsonFile)) {
    const j = JSON.parse(readFileSync(jsonFile, 'utf8'));
    counts = { total: j.numTotalTests, passed: j.numPassedTests, failed: j.numFailedTests, files: j.testResults.length };
  }
  return { status: r.status ?? (r.signal ? 128 : 1), signal: r.signal, counts };
}
