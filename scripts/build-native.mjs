// Builds the native addon with node-gyp against the headers of the Node that runs this script.
// The headers ship with Node (include/node under its install prefix): derive the prefix from
// process.execPath rather than naming a machine path. A failed build is not fatal: the package
// falls back to the stream reader and the node:crypto backend, and says so when it loads.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const prefix = dirname(dirname(process.execPath));
const args = ['rebuild'];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
if (process.env.ALTS_NATIVE_DEBUG) args.push('--debug');
const gyp = require.resolve('node-gyp/bin/node-gyp.js');
const r = spawnSync(process.execPath, [gyp, ...args], { stdio: 'inherit' });
if (r.status !== 0) {
  console.warn('alts-record: the native addon did not build; the stream reader and node:crypto backend will be used.');
  if (process.env.ALTS_REQUIRE_NATIVE) process.exit(r.status ?? 1);
}
