/**
 * Hostile input: arbitrary peer byte streams (./streams.ts) against a real conn
 * on a real socket. Whatever the peer sends, the conn never crashes or hangs, hands up exactly
 * the plaintext the sans-IO record layer finds in the stream, ends in a typed AltsError (or a clean
 * EOF when the stream was all good frames), and afterwards holds nothing, both pools are balanced
 * and every fd is closed. CI runs HOSTILE_RUNS cases; `npm run fuzz -- --runs N [--seed S]` is the
 * long campaign; FC_SEED / FC_RUNS / FC_PATH replay one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcParams } from '../conn/params.js';
import { runCase } from './runCase.js';
import { arbHostileCase } from './streams.js';

export const HOSTILE_RUNS = 3000;
const params = fcParams(HOSTILE_RUNS);
/** Every way a stream can end: a budget this size must have met each. */
const OUTCOMES = ['EOF', 'FRAME_TOO_LARGE', 'FRAME_TOO_SHORT', 'BAD_MESSAGE_TYPE', 'AUTH_FAILED', 'TRUNCATED', 'IO_ERROR'];

describe(`hostile peer streams (seed=${params.seed} runs=${params.numRuns}${params.path ? ` path=${params.path}` : ''})`, () => {
  it('never crash, hang or leak; deliver what the record layer finds; end in a typed AltsError', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(arbHostileCase, async (c) => {
        const outcome = await runCase(c);
        seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
      }),
      params,
    );
    console.log(`outcomes: ${[...seen].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    // A replay or a short run need not meet every ending; the CI budget must.
    if (!params.path && params.numRuns! >= HOSTILE_RUNS) expect([...seen.keys()].sort()).toEqual([...OUTCOMES].sort());
  });
});
