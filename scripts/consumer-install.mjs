// The consumer install, for real: `npm pack` this package, then `npm install` the tarball into
// an empty project outside the repository (no devDependencies, so no node-gyp but npm's own),
// and run the README's Use example there. Two installs:
//   1. a normal one: the addon builds, and the example runs on the native reader with nothing
//      on stderr (no fallback warning);
//   2. one whose build is made to fail (CXX=false: the compiler step fails): the install still
//      succeeds and prints exactly one line about it, the example runs on the stream reader
//      with exactly one ALTS_NATIVE_FALLBACK warning, and reader 'native' is a RangeError.
// Also checks what the tarball ships: no private key, no test or dev script.
// Run: node scripts/consumer-install.mjs (CI runs it after npm test). Exits 1 on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'alts-consumer-'));
let failures = 0;

/** The environment of a user's shell: nothing npm or this repository set for us. */
function userEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_|^ALTS_|^INIT_CWD$|^NODE_OPTIONS$/i.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

function run(cmd, args, cwd, env = userEnv()) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) {
    failures++;
    if (detail) console.log(detail.replace(/^/gm, '     | '));
  }
}

function example() {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const use = readme.slice(readme.indexOf('## Use'));
  const m = /^```js\n([\s\S]*?)^```$/m.exec(use);
  if (!m) throw new Error('README.md: no ```js block under ## Use');
  return m[1];
}

/**
 * A fresh project with the tarball installed, and @grpc/grpc-js (the optional peer dependency
 * the handshake's service client needs: the Use example handshakes through the fake service).
 */
function consumer(name, tarball, env) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, version: '1.0.0', private: true, type: 'module' }, null, 2));
  writeFileSync(join(dir, 'example.mjs'), example());
  const r = run('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', tarball, '@grpc/grpc-js@^1.14.7'], dir, env);
  return { dir, ...r };
}

try {
  // The tarball, and what it ships.
  const pack = run('npm', ['pack', '--json', '--pack-destination', work], root, userEnv());
  if (pack.status !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
  const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')));
  const files = info.files.map((f) => f.path);
  const tarball = join(work, info.filename);
  check(!files.some((f) => /\.pem$|key/i.test(f)), 'the tarball ships no key or certificate', files.filter((f) => /\.pem$|key/i.test(f)).join('\n'));
  check(files.filter((f) => f.startsWith('scripts/')).join() === 'scripts/build-native.mjs', 'the only script it ships is the install script');
  check(!files.some((f) => /^(test|properties|model|bench)\//.test(f) || /demo\./.test(f)), 'no tests, properties, model, bench results or demo');
  check(files.includes('dist/index.js') && files.includes('binding.gyp') && files.includes('native/module.cc'), 'the code and the addon sources are there');

  // 1. A normal install: the addon builds with npm's node-gyp and the example runs natively.
  const a = consumer('native', tarball, userEnv());
  check(a.status === 0, 'npm install of the tarball succeeds', a.stderr);
  check(!existsSync(join(a.dir, 'node_modules', 'node-gyp')), 'no node-gyp of its own in the consumer (npm\'s is used)');
  check(existsSync(join(a.dir, 'node_modules', 'alts-record', 'build', 'Release', 'alts_native.node')), 'the install built the addon', a.stdout + a.stderr);
  const ra = run(process.execPath, ['example.mjs'], a.dir);
  check(ra.status === 0 && ra.stdout === 'echoed "hello" over the native reader\n' && ra.stderr === '',
    'the README example runs on the native reader, with no warning', `exit ${ra.status}\n${ra.stdout}${ra.stderr}`);

  // 2. The build made to fail: one line at install, then the stream reader with one warning.
  const b = consumer('no-compiler', tarball, userEnv({ CXX: 'false' }));
  const lines = `${b.stdout}${b.stderr}`.split('\n').filter((l) => l.startsWith('alts-record:'));
  check(b.status === 0, 'npm install succeeds when the addon does not build', b.stderr);
  check(lines.length === 1 && /^alts-record: the native addon did not build: .*npm rebuild alts-record/.test(lines[0]),
    'the install prints exactly one line about it', lines.join('\n') || `${b.stdout}${b.stderr}`);
  check(!existsSync(join(b.dir, 'node_modules', 'alts-record', 'build', 'Release', 'alts_native.node')), 'no addon was built');
  const rb = run(process.execPath, ['example.mjs'], b.dir);
  const warnings = rb.stderr.split('\n').filter((l) => l.includes('[ALTS_NATIVE_FALLBACK]'));
  check(rb.status === 0 && rb.stdout === 'echoed "hello" over the stream reader\n', 'the README example runs on the stream reader', `exit ${rb.status}\n${rb.stdout}${rb.stderr}`);
  check(warnings.length === 1 && /using the stream reader: Node's stream buffers hold memory while connections wait/.test(warnings[0]),
    'with exactly one warning naming the cost', rb.stderr);
  const needNative = `import { connect } from 'alts-record';
    try { await connect({ protocol: 'ALTSRP_GCM_AES128', side: 'client', key: new Uint8Array(16), host: '127.0.0.1', port: 1, reader: 'native' }); }
    catch (e) { console.log(e.constructor.name, e.message); }`;
  const rc = run(process.execPath, ['--input-type=module', '-e', needNative], b.dir);
  check(/^RangeError "reader" 'native' needs the alts_native addon/.test(rc.stdout), "reader 'native' is then a RangeError, not a fallback", rc.stdout + rc.stderr);
} catch (e) {
  check(false, 'consumer install', e instanceof Error ? (e.stack ?? e.message) : String(e));
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(failures === 0 ? 'consumer install: every check passed' : `consumer install: ${failures} check(s) failed`);
process.exitCode = failures === 0 ? 0 : 1;
