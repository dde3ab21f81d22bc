/**
 * What a bench hands back and how it is shown: the Recorder's summaries and targets, the text
 * report, the SVG chart (well-formed, one bar and whisker per measure, text escaped), the
 * progress line, and the files `emit` writes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { num, renderText, targetLine, withUnit } from '../../src/bench/format.js';
import { machine, opensslCliVersion, type Machine } from '../../src/bench/machine.js';
import { Progress } from '../../src/bench/progress.js';
import { Recorder, type BenchResult } from '../../src/bench/result.js';
import { emit, fileStem } from '../../src/bench/run.js';
import { escapeXml, renderSvg } from '../../src/bench/svg.js';

const MACHINE: Machine = { cpu: 'Some CPU', cores: 2, platform: 'linux x64', node: 'v20.0.0', nodeOpenssl: '3.0.0', opensslCli: null, loadavg: [1, 0.5, 0.25] };

function sample(): BenchResult {
  const rec = new Recorder();
  rec.declare('a', 'client → server', 'alts <native> & "co"', 'MiB/s');
  rec.declare('b', 'client → server', 'plain net', 'MiB/s');
  rec.declare('c', 'bytes', 'idle', 'B');
  rec.declare('unused', 'bytes', 'never sampled', 'B');
  for (const x of [100, 300, 200]) rec.sample('a', x);
  for (const x of [400, 500]) rec.sample('b', x);
  rec.sample('c', 0);
  rec.notes.push('a note');
  rec.derive('a / b', rec.median('a') / rec.median('b'), '×');
  rec.target('a / b', rec.median('a') / rec.median('b'), '>=', 0.7, '×');
  rec.target('idle bytes', rec.median('c'), '<=', 0, 'B');
  rec.target('native thing', NaN, '>=', 1, '×', 'backend unavailable');
  return {
    bench: 'throughput', startedAt: '2026-01-02T03:04:05.678Z', seconds: 1.5, machine: MACHINE, options: { reps: 3 },
    notes: rec.notes, measures: rec.measures(), derived: rec.derived, targets: rec.targets,
  };
}

/** A strict enough XML check for what renderSvg writes: balanced tags, quoted attributes, escaped text. */
function wellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const token = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < body.length && (m = token.exec(body)) !== null) {
    at = token.lastIndex;
    const [, close, name, , selfClose, text] = m;
    if (text !== undefined) {
      expect(text, 'text has only escaped ampersands').not.toMatch(/&(?!amp;|lt;|gt;|quot;|apos;)/);
      continue;
    }
    if (close) expect(stack.pop(), `</${name}> closes the open element`).toBe(name);
    else if (!selfClose) stack.push(name!);
  }
  expect(at, 'the whole document tokenizes').toBe(body.length);
  expect(stack).toEqual([]);
}

afterEach(() => vi.restoreAllMocks());

describe('Recorder', () => {
  it('summarizes each measure that has samples, in declaration order', () => {
    const r = sample();
    expect(r.measures.map((m) => [m.id, m.median, m.min, m.max, m.n])).toEqual([
      ['a', 200, 100, 300, 3],
      ['b', 450, 400, 500, 2],
      ['c', 0, 0, 0, 1],
    ]);
  });

  it('a target passes when met, misses when not met or not measured', () => {
    const [met, zero, unmeasured] = sample().targets;
    expect(met).toMatchObject({ pass: false, measured: 200 / 450 });
    expect(zero).toMatchObject({ pass: true, measured: 0 });
    expect(unmeasured).toMatchObject({ pass: false, note: 'backend unavailable' });
    const rec = new Recorder();
    rec.target('x', 0.7, '>=', 0.7, '×');
    rec.target('y', 2, '<=', 1, 'µs');
    expect(rec.targets.map((t) => t.pass)).toEqual([true, false]);
  });

  it('refuses a measure declared twice or never declared; a median of nothing is NaN', () => {
    const rec = new Recorder();
    rec.declare('x', 'g', 'x', 'B');
    expect(() => rec.declare('x', 'g', 'x', 'B')).toThrow(RangeError);
    expect(() => rec.sample('y', 1)).toThrow(RangeError);
    expect(rec.median('x')).toBeNaN();
    expect(rec.median('y')).toBeNaN();
  });
});

describe('text report', () => {
  it('numbers at a readable precision, units, n/a', () => {
    expect([num(1234.5), num(12.34), num(1.234), num(0.01234), num(0), num(NaN)]).toEqual(['1235', '12.3', '1.23', '0.012', '0', 'n/a']);
    expect(withUnit(1.3, '×')).toBe('1.30×');
    expect(withUnit(812, 'MiB/s')).toBe('812 MiB/s');
  });

  it('each target is one line: PASS or MISS, the threshold, the measured figure', () => {
    const [miss, pass, unmeasured] = sample().targets;
    expect(targetLine(miss!)).toBe('MISS  a / b ≥ 0.70×: 0.44×');
    expect(targetLine(pass!)).toBe('PASS  idle bytes ≤ 0 B: 0 B');
    expect(targetLine(unmeasured!)).toBe('MISS  native thing ≥ 1.00×: not measured (backend unavailable)');
  });

  it('names the bench, the machine, every note, group, measure, derived figure, target and file', () => {
    const r = sample();
    const text = renderText(r, ['out/x.json']);
    for (const s of ['alts-record bench throughput', 'machine: Some CPU, 2 cores, linux x64, Node v20.0.0 (OpenSSL 3.0.0), no openssl CLI, load 1.00 0.50 0.25', 'note: a note', 'client → server', 'alts <native> & "co"',
      '200 MiB/s', '(100–300, n=3)', 'a / b', 'MISS  a / b', 'PASS  idle bytes', 'wrote out/x.json'])
      expect(text).toContain(s);
    expect(text).not.toContain('never sampled');
  });
});

describe('SVG chart', () => {
  it('is well-formed and has one bar and one whisker per measure, labels escaped', () => {
    const r = sample();
    const svg = renderSvg(r);
    wellFormed(svg);
    expect(svg.match(/<rect class="bar"/g)).toHaveLength(r.measures.length);
    expect(svg.match(/<path class="whisker"/g)).toHaveLength(r.measures.length);
    for (const m of r.measures) expect(svg).toContain(`>${escapeXml(m.label)}</text>`);
    expect(svg).toContain('alts &lt;native&gt; &amp; &quot;co&quot;');
  });

  it('bars are as long as their medians on the group\'s scale (the largest max fills it)', () => {
    const svg = renderSvg(sample());
    const widths = [...svg.matchAll(/<rect class="bar" x="\d+" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    // Group 1 scale is max(300, 500) = 500: medians 200 and 450 of a 420 px bar area. Group 2 is all zeros.
    expect(widths).toEqual([(200 / 500) * 420, (450 / 500) * 420, 0]);
  });

  it('escapes every XML special character', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});

describe('progress line', () => {
  const sink = (isTTY: boolean) => {
    const out: string[] = [];
    return { out, stream: { isTTY, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream };
  };

  it('on a terminal, rewrites one line, details at most every 100 ms, and clears it when done', () => {
    const { out, stream } = sink(true);
    let now = 1000;
    const p = new Progress(stream, () => now);
    p.step('rep 1/2');
    now += 99;
    p.detail('10%'); // too soon after the step
    now += 1;
    p.detail('50%');
    now += 50;
    p.detail('60%'); // too soon after the last
    p.done();
    expect(out).toEqual(['\r\x1b[Krep 1/2', '\r\x1b[Krep 1/2 50%', '\r\x1b[K']);
  });

  it('elsewhere, one plain line per step, no details, nothing to clear', () => {
    const { out, stream } = sink(false);
    const p = new Progress(stream);
    p.step('rep 1/2');
    p.detail('50%');
    p.step('rep 2/2');
    p.done();
    expect(out).toEqual(['rep 1/2\n', 'rep 2/2\n']);
  });
});

describe('emit', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes <bench>-<time>.json and .svg beside it; --json prints the JSON alone on stdout', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'alts-bench-test-'));
    const r = sample();
    expect(fileStem(r)).toBe('throughput-20260102T030405Z');
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (printed.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const files = emit(r, { json: true, out: path.join(dir, 'nested') });
    expect(files).toEqual([path.join(dir, 'nested', 'throughput-20260102T030405Z.json'), path.join(dir, 'nested', 'throughput-20260102T030405Z.svg')]);
    expect(JSON.parse(readFileSync(files[0]!, 'utf8'))).toEqual(JSON.parse(JSON.stringify(r)));
    expect(readFileSync(files[1]!, 'utf8')).toBe(renderSvg(r));
    expect(JSON.parse(printed.join(''))).toEqual(JSON.parse(JSON.stringify(r)));
  });

  it('without --json prints the text report naming the files', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'alts-bench-test-'));
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (printed.push(String(s)), true));
    const r = sample();
    const files = emit(r, { json: false, out: dir });
    expect(printed.join('')).toBe(renderText(r, files));
  });
});

describe('machine', () => {
  it('describes this process and machine', () => {
    const m = machine();
    expect(m.node).toBe(process.version);
    expect(m.nodeOpenssl).toBe(process.versions.openssl);
    expect(m.cores).toBeGreaterThanOrEqual(1);
    expect(m.loadavg).toHaveLength(3);
    expect(m.opensslCli).toBe(opensslCliVersion());
  });
});
