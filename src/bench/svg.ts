/**
 * A hand-written SVG bar chart of a BenchResult: one panel per measure group (its own scale and
 * unit), one horizontal bar per measure at its median, with a whisker from min to max. No
 * dependencies; every text is XML-escaped so any label yields well-formed SVG.
 * @module
 */
import { num, withUnit } from './format.js';
import { byGroup, type BenchResult, type MeasureResult } from './result.js';

const WIDTH = 820;
const LABEL_W = 250;
const BAR_W = 420;
const ROW_H = 22;
const BAR_H = 14;
const TITLE_H = 34;
const PANEL_GAP = 18;

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function panel(name: string, ms: readonly MeasureResult[], y0: number): { svg: string[]; height: number } {
  const scale = Math.max(...ms.map((m) => m.max), 0) || 1;
  const x = (v: number) => LABEL_W + (Math.max(0, v) / scale) * BAR_W;
  const units = [...new Set(ms.map((m) => m.unit))].join(', ');
  const out = [`<text class="group" x="8" y="${y0 + 16}">${escapeXml(`${name} (${units})`)}</text>`];
  ms.forEach((m, i) => {
    const y = y0 + 26 + i * ROW_H;
    const cy = y + BAR_H / 2;
    out.push(
      `<text class="label" x="${LABEL_W - 8}" y="${cy + 4}" text-anchor="end">${escapeXml(m.label)}</text>`,
      `<rect class="bar" x="${LABEL_W}" y="${y}" width="${(x(m.median) - LABEL_W).toFixed(1)}" height="${BAR_H}"><title>${escapeXml(
        `${m.label}: median ${withUnit(m.median, m.unit)}, min ${num(m.min)}, max ${num(m.max)}, n=${m.n}`,
      )}</title></rect>`,
      `<path class="whisker" d="M${x(m.min).toFixed(1)} ${cy}H${x(m.max).toFixed(1)}M${x(m.min).toFixed(1)} ${y + 2}V${y + BAR_H - 2}M${x(m.max).toFixed(1)} ${y + 2}V${y + BAR_H - 2}"/>`,
      `<text class="value" x="${(x(m.max) + 6).toFixed(1)}" y="${cy + 4}">${escapeXml(withUnit(m.median, m.unit))}</text>`,
    );
  });
  return { svg: out, height: 26 + ms.length * ROW_H };
}

/** The chart of `r`: a standalone SVG document. */
export function renderSvg(r: BenchResult): string {
  const body: string[] = [];
  let y = TITLE_H;
  for (const [name, ms] of byGroup(r.measures)) {
    const p = panel(name, ms, y);
    body.push(...p.svg);
    y += p.height + PANEL_GAP;
  }
  const title = `alts-record bench ${r.bench}: median, whiskers min–max (${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node})`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}">`,
    '<style>text{font:12px sans-serif;fill:#222}.title{font-weight:bold}.group{font-weight:bold}.bar{fill:#4c78a8}.whisker{stroke:#222;stroke-width:1.2;fill:none}</style>',
    `<rect width="${WIDTH}" height="${y}" fill="#fff"/>`,
    `<text class="title" x="8" y="20">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
