#!/usr/bin/env node
// npm run coverage:native: line, branch and function coverage of native/ (gcov), from the
// addon's tests run against a --coverage -O0 build of it (build-variants/coverage/, never
// build/Release). Writes coverage/native/: summary.txt (the table printed here), summary.json,
// lcov.info (paths relative to the package root) and gcov's annotated sources (*.gcov).
//
//   node scripts/native-coverage.mjs            every addon test file
//   node scripts/native-coverage.mjs FILE...    only these test files
//
// Branches are counted without the exception edges g++ adds to every call that may throw
// (gcov marks them "throw"); they are reported apart. Header code compiled into several
// translation units (args.h) is merged line by line. Only files under native/ are counted.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { addonTestFiles, buildVariant, ROOT, runVitest } from './_native-variant.mjs';

const OUT = join(ROOT, 'coverage', 'native');

function gcdaFiles(dir) {
  return readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.gcda')).map((f) => join(dir, f));
}

/** gcov's JSON for each .gcda (one translation unit each), from --stdout. */
function gcovJson(objDir, gcdas) {
  const r = spawnSync('gcov', ['--json-format', '--stdout', '--branch-probabilities', '--demangled-names', ...gcdas], {
    cwd: objDir,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`gcov failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

/** Per source file under native/: merged line counts, branch counts and functions. */
function collect(units, variantDir) {
  const files = new Map();
  for (const unit of units) {
    for (const f of unit.files) {
      const abs = resolve(unit.current_working_directory, f.file);
      const rel = relative(variantDir, abs);
      if (!rel.startsWith('native/')) continue; // node-addon-api, Node's headers, libstdc++
      const acc = files.get(rel) ?? { lines: new Map(), fns: new Map() };
      files.set(rel, acc);
      for (const l of f.lines) {
        const prev = acc.lines.get(l.line_number);
        const branches = l.branches.map((b) => ({ count: b.count, throw: b.throw }));
        if (!prev) {
          acc.lines.set(l.line_number, { count: l.count, branches });
        } else {
          prev.count += l.count;
          if (prev.branches.length === branches.length) branches.forEach((b, i) => (prev.branches[i].count += b.count));
          else if (branches.filter((b) => b.count).length > prev.branches.filter((b) => b.count).length) prev.branches = branches;
        }
      }
      for (const fn of f.functions) {
        const key = `${fn.start_line}:${fn.demangled_name}`;
        const prev = acc.fns.get(key);
        acc.fns.set(key, { name: fn.demangled_name, line: fn.start_line, count: (prev?.count ?? 0) + fn.execution_count });
      }
    }
  }
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}

function summarise(acc) {
  const lines = [...acc.lines.values()];
  const branches = lines.flatMap((l) => l.branches);
  const normal = branches.filter((b) => !b.throw);
  const thrown = branches.filter((b) => b.throw);
  const fns = [...acc.fns.values()];
  const pair = (list, hit) => ({ total: list.length, hit: list.filter(hit).length });
  return {
    lines: pair(lines, (l) => l.count > 0),
    branches: pair(normal, (b) => b.count > 0),
    exceptionEdges: pair(thrown, (b) => b.count > 0),
    functions: pair(fns, (f) => f.count > 0),
    neverRun: fns.filter((f) => f.count === 0).sort((a, b) => a.line - b.line).map((f) => `${f.name} (line ${f.line})`),
  };
}

function lcov(files) {
  const out = [];
  for (const [rel, acc] of files) {
    out.push('TN:', `SF:${rel}`);
    const fns = [...acc.fns.values()];
    for (const f of fns) out.push(`FN:${f.line},${f.name}`);
    for (const f of fns) out.push(`FNDA:${f.count},${f.name}`);
    out.push(`FNF:${fns.length}`, `FNH:${fns.filter((f) => f.count > 0).length}`);
    let brf = 0;
    let brh = 0;
    const lines = [...acc.lines].sort(([a], [b]) => a - b);
    for (const [n, l] of lines) {
      l.branches.forEach((b, i) => {
        if (b.throw) return;
        out.push(`BRDA:${n},0,${i},${b.count}`);
        brf++;
        if (b.count > 0) brh++;
      });
    }
    for (const [n, l] of lines) out.push(`DA:${n},${l.count}`);
    out.push(`BRF:${brf}`, `BRH:${brh}`, `LF:${lines.length}`, `LH:${lines.filter(([, l]) => l.count > 0).length}`, 'end_of_record');
  }
  return `${out.join('\n')}\n`;
}

/**
 * gcov's annotated sources, native/ only: "module.cc.gcov" for a translation unit's own file,
 * "module##args.h.gcov" for a header as compiled into module.cc (gcov cannot merge those).
 */
function annotate(gcdas, buildDir) {
  const ours = new Set(readdirSync(join(ROOT, 'native')));
  const kept = [];
  for (const gcda of gcdas) {
    const tu = basename(gcda, '.gcda');
    // From the directory the compiler ran in: the sources are recorded relative to it.
    const r = spawnSync('gcov', ['--branch-probabilities', '--branch-counts', '--demangled-names', gcda], { cwd: buildDir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gcov failed: ${r.stderr}`);
    for (const f of readdirSync(buildDir).filter((n) => n.endsWith('.gcov'))) {
      const source = f.replace(/\.gcov$/, '');
      if (ours.has(source)) {
        const name = source.startsWith(`${tu}.`) ? f : `${tu}##${f}`;
        renameSync(join(buildDir, f), join(OUT, name));
        kept.push(name);
      } else {
        rmSync(join(buildDir, f)); // node-addon-api, Node's headers, libstdc++
      }
    }
  }
  return kept;
}

const pct = ({ hit, total }) => (total === 0 ? '-' : `${((100 * hit) / total).toFixed(1)}%`);
const cell = (p) => `${pct(p).padStart(6)} ${`${p.hit}/${p.total}`.padStart(9)}`;

function main() {
  const argv = process.argv.slice(2);
  const files = argv.length ? argv : addonTestFiles();
  const t0 = Date.now();
  const { dir, addon, objDir } = buildVariant('coverage', { cflags: ['--coverage', '-O0', '-g'], ldflags: ['--coverage'] });
  const run = runVitest(files, { ALTS_NATIVE_ADDON: addon }, { jsonFile: join(dir, 'vitest.json') });
  const gcdas = gcdaFiles(objDir);
  if (gcdas.length === 0) {
    console.error('native-coverage: no .gcda written: no process that loaded the addon exited normally.');
    process.exit(1);
  }
  const merged = collect(gcovJson(objDir, gcdas), dir);
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const annotated = annotate(gcdas, join(dir, 'build'));

  const rows = [...merged].map(([rel, acc]) => ({ file: rel, ...summarise(acc) }));
  const total = (key) => ({ hit: rows.reduce((n, r) => n + r[key].hit, 0), total: rows.reduce((n, r) => n + r[key].total, 0) });
  const all = { file: 'all files', lines: total('lines'), branches: total('branches'), exceptionEdges: total('exceptionEdges'), functions: total('functions') };
  const c = run.counts;
  const head = `native coverage (gcov) of ${rows.length} files under native/, from ${c ? `${c.files} test files, ${c.total} tests (${c.failed} failed)` : 'a vitest run that died'}`;
  const table = [
    head,
    `${'file'.padEnd(22)} ${'lines'.padStart(16)} ${'branches'.padStart(16)} ${'functions'.padStart(16)} ${'exception edges'.padStart(16)}`,
    ...[...rows, all].map((r) => `${r.file.padEnd(22)} ${cell(r.lines)} ${cell(r.branches)} ${cell(r.functions)} ${cell(r.exceptionEdges)}`),
    '',
    ...rows.filter((r) => r.neverRun.length).flatMap((r) => [`never run in ${r.file}:`, ...r.neverRun.map((n) => `  ${n}`)]),
  ].join('\n');
  writeFileSync(join(OUT, 'summary.txt'), `${table}\n`);
  writeFileSync(join(OUT, 'summary.json'), `${JSON.stringify({ tests: c, total: all, files: rows }, null, 2)}\n`);
  writeFileSync(join(OUT, 'lcov.info'), lcov(merged));
  console.log(table);
  console.log(`native-coverage: wrote ${relative(ROOT, OUT)}/ (summary.txt, summary.json, lcov.info, ${annotated.length} .gcov files) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  process.exit(run.status === 0 && c?.failed === 0 ? 0 : 1);
}

main();
