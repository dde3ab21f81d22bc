/**
 * docs/corpus is generated from the model: CORPUS_WRITE=1 npx vitest run properties/conn/corpus.test.ts
 * rewrites it; otherwise this test checks the committed corpus is what the model generates now.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateCorpus } from './corpus.js';

const DIR = 'docs/corpus';

describe('docs/corpus', () => {
  it('is what the model generates (CORPUS_WRITE=1 to regenerate)', () => {
    const corpus = generateCorpus();
    if (process.env.CORPUS_WRITE) {
      mkdirSync(DIR, { recursive: true });
      for (const t of corpus) writeFileSync(`${DIR}/${t.name}.json`, `${JSON.stringify(t, null, 1)}\n`);
      console.log(`wrote ${corpus.length} traces, ${corpus.reduce((a, t) => a + t.steps.length, 0)} steps, to ${DIR}/`);
    }
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(corpus.map((t) => `${t.name}.json`));
    for (const t of corpus) expect(JSON.parse(readFileSync(`${DIR}/${t.name}.json`, 'utf8')), t.name).toEqual(JSON.parse(JSON.stringify(t)));
  });
});
