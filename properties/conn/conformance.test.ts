/** Replays every trace of docs/corpus against the real conn (npm run conformance). */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { replayTrace, type Trace } from './corpus.js';

const DIR = 'docs/corpus';
const traces: Trace[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(`${DIR}/${f}`, 'utf8')) as Trace);

describe('docs/corpus replayed on the real conn', () => {
  it('has traces', () => expect(traces.length).toBeGreaterThan(0));
  for (const t of traces) {
    it(`${t.name} (${t.steps.length} steps, readSize ${t.readSize}, budget ${t.budget ?? 'none'})`, async () => {
      await replayTrace(t, (i, want, got) => expect(got, `${t.name} step ${i}: ${JSON.stringify(t.steps[i]!.input).slice(0, 80)}`).toEqual(want));
    });
  }
});
