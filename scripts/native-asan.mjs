#!/usr/bin/env node
// npm run test:native:asan: the addon's tests against an AddressSanitizer build of it
// (build-variants/asan/, never build/Release), failing on any ASan report or any leak the
// addon allocated. Choices and findings: docs/native-safety.md.
//
//   node scripts/native-asan.mjs              canaries, then every addon test file, pool forks
//   node scripts/native-asan.mjs FILE...      canaries, then only these test files
//   node scripts/native-asan.mjs --threads F  one file under --pool threads (the worker-teardown crash)
//
// Node is not built with ASan, so the runtime is preloaded (LD_PRELOAD) into every node
// process of the run: the vitest parent, its forks and the processes tests spawn. Each process
// logs to its own file (log_path); the verdict comes from those files, not from exit codes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { addonTestFiles, buildVariant, ROOT, runVitest } from './_native-variant.mjs';

const CXX = process.env.CXX || 'g++';
const SAN = ['-fsanitize=address', '-fno-omit-frame-pointer', '-g', '-O1'];

/** The ASan runtime matching the compiler node-gyp uses (g++ unless CXX says otherwise). */
function asanRuntime() {
  const r = spawnSync(CXX, ['-print-file-name=libasan.so'], { encoding: 'utf8' });
  const path = r.stdout?.trim();
  if (r.status !== 0 || !path || !isAbsolute(path) || !existsSync(path)) {
    console.error(`native-asan: ${CXX} has no ASan runtime (libasan.so); install it (Debian: libasan8) or set CXX.`);
    process.exit(2);
  }
  return path;
}

/**
 * ASAN_OPTIONS. Leak checking stays on, but exitcode=0 keeps a leak report from changing a
 * process's exit status: tests assert the status of the processes they spawn, and Node leaves
 * memory behind when it exits through process.exit. A memory error still kills the process,
 * by abort (abort_on_error), whatever exitcode says.
 */
function asanOptions(logDir, { leaks }) {
  return [
    `log_path=${join(logDir, 'asan')}`,
    `detect_leaks=${leaks ? 1 : 0}`,
    'exitcode=0',
    'abort_on_error=1',
    'halt_on_error=1',
    'disable_coredump=1',
    // Keep ASan's SIGSEGV handler: Node's own turns a wild jump into a bare "Segmentation fault".
    'allow_user_segv_handler=0',
    'detect_stack_use_after_return=1',
    'check_initialization_order=1',
    'strict_init_order=1',
    // The frame-pointer unwinder on a crash: the default one crashes itself ("nested bug")
    // when the pc lies in an unloaded library, and then prints no stack at all.
    'fast_unwind_on_fatal=1',
    // Symbolising every stack of Node's exit-time leftovers costs seconds per process; the
    // frames that matter are symbolised afterwards (addr2line) from module+offset.
    'symbolize=0',
    // Exit statistics: proof that a process ran to its end under ASan.
    'atexit=1',
  ].join(':');
}

function asanEnv(runtime, logDir, addon, support, opts) {
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  return {
    LD_PRELOAD: [runtime, process.env.LD_PRELOAD].filter(Boolean).join(':'),
    ASAN_OPTIONS: asanOptions(logDir, opts),
    ALTS_NATIVE_ADDON: addon,
    ALTS_ASAN_SUPPORT: support,
    ALTS_ASAN_CHECKS: join(logDir, 'checks.txt'),
  };
}

const FRAME = /^\s+#\d+ 0x[0-9a-f]+\s+(?:in \S+ )?\((\/[^()]+)\+(0x[0-9a-f]+)\)/;

/** Function names for module+offset pairs, one addr2line per module. */
function symbolise(pairs) {
  const names = new Map();
  const byModule = new Map();
  for (const [mod, off] of pairs) byModule.set(mod, (byModule.get(mod) ?? new Set()).add(off));
  for (const [mod, set] of byModule) {
    const offs = [...set];
    const r = spawnSync('addr2line', ['-f', '-C', '-e', mod, ...offs], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const lines = r.status === 0 ? r.stdout.split('\n') : [];
    offs.forEach((off, i) => names.set(`${mod}+${off}`, { fn: lines[2 * i] ?? '??', at: lines[2 * i + 1] ?? '' }));
  }
  return names;
}

/**
 * A leak is the addon's when the allocation was made by the addon's code (ours or node-addon-api
 * inlined into it), directly or through N-API: every frame between the allocator and the first
 * frame in the variant's tree is an N-API function. Other leaks with the addon on the stack are
 * V8's heap bookkeeping while the addon called into JS, left behind by process.exit.
 */
function classify(records, variantDir) {
  const inVariant = (f) => f.includes(`${variantDir}/`);
  const between = records.map((r) => {
    const k = r.frames.findIndex(inVariant);
    return k < 0 ? null : r.frames.slice(1, k).map((f) => FRAME.exec(f)).filter(Boolean).map((m) => [m[1], m[2]]);
  });
  const names = symbolise(between.flat().filter(Boolean));
  const napi = /^(napi_|node_api_|v8impl::|napi_env__|node_napi_env__|operator new|malloc|calloc)/;
  return records.map((r, i) => {
    if (between[i] === null) return 'elsewhere';
    const fns = between[i].map(([m, o]) => names.get(`${m}+${o}`).fn);
    return fns.every((fn) => napi.test(fn)) ? 'addon' : 'viaAddon';
  });
}

/** Memory-error reports, leak records (deduplicated per process) and processes that ran to their end. */
function readLogs(logDir, variantDir) {
  const out = { processes: 0, errors: [], leaks: { addon: [], viaAddon: [], elsewhere: [] }, checks: [] };
  const records = [];
  for (const f of readdirSync(logDir)) {
    const text = readFileSync(join(logDir, f), 'utf8');
    if (f === 'checks.txt') {
      out.checks = text.trim().split('\n').filter(Boolean);
      continue;
    }
    if (text.includes('AddressSanitizer exit stats')) out.processes++;
    for (const m of text.matchAll(/^==\d+==ERROR: AddressSanitizer: (.*)$/gm)) {
      const frames = text.slice(m.index).split('\n').slice(1, 40).filter((l) => /^\s+#\d/.test(l));
      out.errors.push({ log: f, kind: m[1], frames });
    }
    const seen = new Set();
    for (const rec of text.split(/\n\s*\n/)) {
      const m = /^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object/m.exec(rec);
      if (!m || seen.has(rec)) continue; // a later check in the same process repeats a leak
      seen.add(rec);
      records.push({ log: f, kind: m[1], bytes: Number(m[2]), frames: rec.split('\n').filter((l) => /^\s+#\d/.test(l)) });
    }
  }
  classify(records, variantDir).forEach((c, i) => out.leaks[c].push(records[i]));
  return out;
}

function buildSupport(runtime, variantDir) {
  const dir = join(variantDir, 'support');
  mkdirSync(dir, { recursive: true });
  const include = join(dirname(dirname(process.execPath)), 'include', 'node');
  if (!existsSync(join(include, 'node_api.h'))) throw new Error(`no Node headers at ${include} (node_api.h)`);
  const so = join(dir, 'asan_support.node');
  const src = join(ROOT, 'scripts', 'native-asan-support.c');
  const cc = spawnSync(process.env.CC || 'gcc', [...SAN, '-O0', '-shared', '-fPIC', `-I${include}`, src, '-o', so], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`building ${relative(ROOT, src)} failed:\n${cc.stderr}`);
  return so;
}

/** Both canaries must be caught, the leak as the addon's, or the run proves nothing. */
function runCanaries(runtime, variantDir, support) {
  const results = {};
  const scripts = {
    overflow: 'require(process.env.ALTS_ASAN_SUPPORT).canaryOverflow()',
    leak: 'const s = require(process.env.ALTS_ASAN_SUPPORT); s.canaryLeak(); s.leakCheck()',
  };
  for (const [what, script] of Object.entries(scripts)) {
    const logDir = join(variantDir, 'support', `logs-${what}`);
    const env = { ...process.env, ...asanEnv(runtime, logDir, '', support, { leaks: true }) };
    const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
    const logs = readLogs(logDir, relative(ROOT, variantDir));
    results[what] = what === 'overflow'
      ? logs.errors.some((e) => e.kind.startsWith('heap-buffer-overflow')) && r.signal === 'SIGABRT'
      : logs.leaks.addon.some((l) => l.bytes === 16 && l.frames.some((fr) => fr.includes('asan_support.node'))) && r.status === 0;
  }
  return results;
}

/** Prints frames with their function (and, with debug info, file:line), from addr2line. */
function printFrames(frames) {
  const shown = frames.slice(0, 12);
  const pairs = shown.map((f) => FRAME.exec(f)).filter(Boolean).map((m) => [m[1], m[2]]);
  const names = symbolise(pairs);
  for (const fr of shown) {
    const m = FRAME.exec(fr);
    const n = m && names.get(`${m[1]}+${m[2]}`);
    const at = n && !n.at.startsWith('??') ? ` ${n.at}` : '';
    console.error(`      ${fr.trim()}${n ? `  ${n.fn}${at}` : ''}`);
  }
}

function main() {
  const argv = process.argv.slice(2);
  const threads = argv[0] === '--threads';
  const files = threads ? [argv[1] ?? 'test/conn/readiness.test.ts'] : argv.length ? argv : addonTestFiles();
  const t0 = Date.now();
  const runtime = asanRuntime();
  const { dir, addon } = buildVariant('asan', { cflags: SAN, ldflags: ['-fsanitize=address'] });
  const variantDir = relative(ROOT, dir); // how frames name it (absolute paths containing it)
  const support = buildSupport(runtime, dir);

  const canary = runCanaries(runtime, dir, support);
  console.log(`native-asan: canaries: heap overflow ${canary.overflow ? 'reported' : 'MISSED'}, leak ${canary.leak ? 'reported as the addon\'s' : 'MISSED'}`);
  if (!canary.overflow || !canary.leak) {
    console.error('native-asan: the setup does not catch a planted bug; a clean run would prove nothing.');
    process.exit(2);
  }

  const logDir = join(dir, 'logs');
  // Threads mode is about the teardown crash: leaks off (the worker's would be mixed with the parent's).
  const env = asanEnv(runtime, logDir, addon, threads ? '' : support, { leaks: !threads });
  const run = runVitest(files, env, { pool: threads ? 'threads' : 'forks', jsonFile: join(dir, 'vitest.json') });
  const logs = readLogs(logDir, variantDir);
  const secs = ((Date.now() - t0) / 1000).toFixed(0);

  for (const e of logs.errors) {
    console.error(`  ASan: ${e.kind} (${join(variantDir, 'logs', e.log)})`);
    printFrames(e.frames);
  }
  for (const l of logs.leaks.addon) {
    console.error(`  LSan: ${l.kind} leak of ${l.bytes} bytes allocated by the addon (${join(variantDir, 'logs', l.log)})`);
    printFrames(l.frames);
  }
  const bytes = (list) => list.reduce((n, l) => n + l.bytes, 0);
  const { addon: ours, viaAddon, elsewhere } = logs.leaks;
  const c = run.counts;
  const tests = c ? `${c.files} files, ${c.total} tests (${c.passed} passed, ${c.failed} failed)` : `vitest died (${run.signal ?? `exit ${run.status}`})`;
  const leakText = threads
    ? 'leaks not checked (threads mode)'
    : `leak checks: ${logs.checks.length} in workers (one per file) + ${logs.processes} at process exit; ` +
      `leaks allocated by the addon: ${ours.length} (${bytes(ours)} bytes); ` +
      `not the addon's: ${viaAddon.length + elsewhere.length} records, ${bytes(viaAddon) + bytes(elsewhere)} bytes ` +
      `(V8 heap metadata and Node's leftovers at process.exit; ${viaAddon.length} with the addon on the stack)`;
  console.log(`native-asan: ${tests}, pool ${threads ? 'threads' : 'forks'}; ASan errors: ${logs.errors.length}; ${leakText}; ${secs} s; logs in ${join(variantDir, 'logs')}/`);
  const ok = run.status === 0 && c !== null && c.failed === 0 && logs.errors.length === 0 && ours.length === 0;
  process.exit(ok ? 0 : 1);
}

main();
