/**
 * Deliberately broken variants must be caught (a `buggy` variant per rule, without touching src/):
 * each wraps the real conn's reader or pool, and the same model-based property must fail with a
 * small shrunk counterexample. The test asserts that fast-check finds a failure and prints it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConnModel } from '../../model/ConnModel.js';
import type { ModelConfig } from '../../model/types.js';
import type { BufferPool } from '../../src/pool/BufferPool.js';
import type { ReadyReader } from '../../src/io/types.js';
import { AGAIN } from '../../src/io/types.js';
import { configArb, connCommands } from './commands/index.js';
import type { ConnCommand } from './commands/step.js';
import { growthPastBudget, growthStuck } from './examples.js';
import { stepOptions } from './commands/step.js';
import { fcParams } from './params.js';
import { Real, type Tamper } from './Real.js';

/** A proxy that overrides some methods and forwards the rest (bound to the target, so private fields work). */
function override<T extends object>(target: T, methods: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(target, {
    get: (t, prop) => {
      if (prop in methods) return (methods as Record<PropertyKey, unknown>)[prop];
      const v = Reflect.get(t, prop, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
    set: (t, prop, value) => Reflect.set(t, prop, value),
  });
}

const variants: Record<string, Tamper> = {
  // The conn keeps its buffer after delivering: the pool never gets it back.
  'keeps the buffer after delivering (pool.put dropped)': {
    pool: (p) => override<BufferPool>(p, { put: () => {} }),
  },
  // The EAGAIN path does not return the buffer it borrowed for the read(2).
  'EAGAIN path keeps its buffer (the put after EAGAIN is swallowed)': {
    reader: (r) => {
      const w = override<ReadyReader>(r, {
        readInto: (buf: Uint8Array, off: number, len: number) => {
          const n = r.readInto(buf, off, len);
          eagain = n === AGAIN;
          return n;
        },
      });
      return w;
    },
    pool: (p) =>
      override<BufferPool>(p, {
        put: (b: Uint8Array) => {
          if (eagain) return void (eagain = false);
          p.put(b);
        },
      }),
  },
  // Polling is never stopped: readiness keeps coming while the conn cannot act (starved, closed...).
  'spins: polling never stopped (watchReadable(false) ignored)': {
    reader: (r) => override<ReadyReader>(r, { watchReadable: (on: boolean) => (on ? r.watchReadable(true) : undefined) }),
  },
  // Starved on growth, the conn waits for get(want) (the buffer it would give back counted as not
  // free) instead of the exchange: it stays starved after the pool could lend (docs/spec.md §8).
  'waits for get(want) on growth (waitFor givesBack dropped)': {
    pool: (p) => override<BufferPool>(p, { waitFor: (size: number, notify: () => void) => p.waitFor(size, notify) }),
  },
  // The pool waits on itself: starved on growth, the conn's wait does not say it holds its
  // buffer, so once the other holders give everything back the pool still sees bytes lent to
  // someone not waiting, and never tells it (docs/spec.md §3, Pool refilled).
  'the pool waits on itself (a growing waiter declares holding nothing)': {
    pool: (p) => override<BufferPool>(p, { waitFor: (size: number, notify: () => void, givesBack = 0) => p.waitFor(size, notify, givesBack, 0) }),
  },
  // The bytes after a frame boundary in one read(2) are lost.
  'loses the bytes after a frame boundary': {
    reader: (r, real) => {
      let at = 0; // stream offset of the next byte read
      return override<ReadyReader>(r, {
        readInto: (buf: Uint8Array, off: number, len: number) => {
          const n = r.readInto(buf, off, len);
          if (n <= 0) return n;
          let f = 0; // find the first frame end inside (at, at + n)
          while (f <= at) f += 4 + (real.wire[f]! | (real.wire[f + 1]! << 8) | (real.wire[f + 2]! << 16) | (real.wire[f + 3]! << 24));
          const keep = f < at + n ? f - at : n;
          at += n;
          return keep;
        },
      });
    },
  },
};
let eagain = false;

/** Hand-written sequences a variant starts with, where random ones rarely reach its path. */
const examples: Record<string, [ModelConfig, ConnCommand[]][]> = {
  'the pool waits on itself (a growing waiter declares holding nothing)': [growthPastBudget],
  'waits for get(want) on growth (waitFor givesBack dropped)': [growthStuck],
};

describe('broken variants are caught', () => {
  for (const [name, tamper] of Object.entries(variants)) {
    it(name, async () => {
      stepOptions.liveness = name.startsWith('spins') ? 'unwatched' : false;
      eagain = false;
      const out = await fc.check(
        fc.asyncProperty(configArb, connCommands(), async (cfg, cmds) => {
          const real = new Real(cfg, tamper);
          try {
            await fc.asyncModelRun(() => ({ model: new ConnModel(cfg), real }), cmds);
          } finally {
            real.dispose();
          }
        }),
        { ...fcParams(300), endOnFailure: false, examples: (examples[name] ?? []) as [ModelConfig, Iterable<ConnCommand>][] },
      );
      expect(out.failed, `${name}: fast-check should find a failure`).toBe(true);
      const [cfg, cmds] = out.counterexample! as unknown as [unknown, Iterable<unknown>];
      const steps = [...cmds].map(String);
      console.log(`${name}: caught after ${out.numRuns} runs, shrunk ${out.numShrinks}x to ${steps.length} commands (seed ${out.seed}, path ${out.counterexamplePath}):\n  ${JSON.stringify(cfg)} ${steps.join(', ')}`);
      expect(steps.length).toBeLessThanOrEqual(8);
    });
  }
});
