// The package's install script: builds the native addon with node-gyp against the headers of
// the Node that runs this script. The headers ship with Node (include/node under its install
// prefix): derive the prefix from process.execPath rather than naming a machine path.
//
// node-gyp: the one npm bundles and names to install scripts (npm_config_node_gyp), else one
// installed beside the package (a devDependency here). A consumer installs no devDependencies,
// so npm's is the one that normally runs.
//
// A failed build is not fatal: the package falls back to the stream reader and the node:crypto
// backend, and says so once at run time. It prints one line here (node-gyp's output goes to
// build/native-build.log) and exits 0, unless ALTS_REQUIRE_NATIVE is set: then it prints the log
// and fails.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const required = Boolean(process.env.ALTS_REQUIRE_NATIVE);

function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

function fail(why, log) {
  let where = '';
  if (log) {
    const file = join(root, 'build', 'native-build.log');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, log);
    where = ` (log: ${file})`;
    if (required) process.stderr.write(log);
  }
  console.warn(
    `alts-record: the native addon did not build: ${why}${where}; the stream reader and node:crypto backend will be used. ` +
      'To build it, install python3, make and a C++ compiler, then run `npm rebuild alts-record`.',
  );
  process.exit(required ? 1 : 0);
}

const gyp = nodeGyp();
if (gyp === null) fail('node-gyp was not found (npm names its own to install scripts; run this through npm)');
const prefix = dirname(dirname(process.execPath));
const args = ['rebuild'];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
if (process.env.ALTS_NATIVE_DEBUG) args.push('--debug');
const r = spawnSync(process.execPath, [gyp, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
if (r.status !== 0) {
  const log = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`;
  fail(r.error ? r.error.message : `node-gyp exited with ${r.status ?? r.signal}`, log);
}
