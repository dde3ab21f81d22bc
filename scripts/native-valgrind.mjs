#!/usr/bin/env node
// Valgrind memcheck over the addon's tests: a second opinion beside the ASan run
// (scripts/native-asan.mjs), on an uninstrumented -g -O1 build (build-variants/valgrind/).
// Slow (each test worker runs 20-50 times slower), so on demand only:
//
//   node scripts/native-valgrind.mjs            test/native/** and the conn tests on real sockets
//   node scripts/native-valgrind.mjs FILE...    only these test files
//
// Only the vitest workers run under valgrind (vitest.native-variant.config.mjs starts them
// through a wrapper); the parent and the processes tests spawn run natively (their hang guards
// would fire under valgrind; the ASan run covers them). Memory errors only: --leak-check=no,
// since vitest kills a worker 500 ms after SIGTERM, before a leak scan ends (LSan covers leaks).
// Fails on any error with a frame in the addon; other errors are counted and printed.
import { chmodSync, readdirSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { addonTestFiles, buildVariant, ROOT, runVitest } from './_native-variant.mjs';

// V8's conservative stack scan (cppgc) reads uninitialised stack words on purpose.
const SUPPRESSIONS = `{
   v8-conservative-stack-scan-cond
   Memcheck:Cond
   ...
   fun:*IteratePointersInStack*
}
{
   v8-conservative-stack-scan-value
   Memcheck:Value8
   ...
   fun:*IteratePointersInStack*
}
`;

function readLogs(logDir, addonMarks) {
  const out = { processes: 0, finished: 0, addon: [], other: [] };
  for (const f of readdirSync(logDir)) {
    const text = readFileSync(join(logDir, f), 'utf8');
    out.processes++;
    if (/== ERROR SUMMARY:/.test(text)) out.finished++;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length - 1; i++) {
      const head = /^==\d+== (\S.*)$/.exec(lines[i]);
      if (!head || !/^==\d+== {4}at /.test(lines[i + 1])) continue;
      const frames = [];
      for (let j = i + 1; j < lines.length && /^==\d+== {4}(at|by) /.test(lines[j]); j++) frames.push(lines[j].replace(/^==\d+== +/, ''));
      const error = { log: f, kind: head[1], frames };
      (frames.some((fr) => addonMarks.some((m) => fr.includes(m))) ? out.addon : out.other).push(error);
    }
  }
  return out;
}

function main() {
  const argv = process.argv.slice(2);
  const files = argv.length
    ? argv
    : addonTestFiles().filter((f) => f.startsWith('test/native/') || f.startsWith('test/conn/'));
  const t0 = Date.now();
  const { dir, addon } = buildVariant('valgrind', { cflags: ['-g', '-O1'], ldflags: [] });
  const logDir = join(dir, 'logs');
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  writeFileSync(join(dir, 'node.supp'), SUPPRESSIONS);
  const wrapper = join(dir, 'node-under-valgrind.sh');
  const vg = ['valgrind', '--tool=memcheck', '--trace-children=no', '--error-limit=no', '--leak-check=no', '--track-origins=yes',
    `--suppressions=${join(dir, 'node.supp')}`, `--log-file=${join(logDir, 'vg.%p')}`];
  writeFileSync(wrapper, `#!/bin/sh\nexec ${vg.map((a) => `'${a}'`).join(' ')} '${process.execPath}' "$@"\n`);
  chmodSync(wrapper, 0o755);

  const run = runVitest(files, { ALTS_NATIVE_ADDON: addon, ALTS_WORKER_NODE: wrapper }, { jsonFile: join(dir, 'vitest.json') });
  const sources = readdirSync(join(ROOT, 'native')).map((n) => `(${n}:`);
  const logs = readLogs(logDir, ['alts_native.node', ...sources]);
  for (const e of [...logs.addon, ...logs.other]) {
    console.error(`  valgrind: ${e.kind} (${relative(ROOT, join(logDir, e.log))})`);
    for (const fr of e.frames.slice(0, 8)) console.error(`      ${fr}`);
  }
  const c = run.counts;
  const tests = c ? `${c.files} files, ${c.total} tests (${c.passed} passed, ${c.failed} failed)` : `vitest died (${run.signal ?? `exit ${run.status}`})`;
  console.log(
    `native-valgrind: ${tests}; ${logs.processes} worker processes under memcheck (${logs.finished} reached their summary); ` +
      `errors with a frame in the addon: ${logs.addon.length}; other errors: ${logs.other.length}; ` +
      `${((Date.now() - t0) / 1000).toFixed(0)} s; logs in ${relative(ROOT, logDir)}/`,
  );
  process.exit(run.status === 0 && c?.failed === 0 && logs.addon.length === 0 ? 0 : 1);
}

main();
