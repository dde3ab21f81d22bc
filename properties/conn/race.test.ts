/**
 * Races ("close racing a pending read", docs/spec.md §3 Close): fc.scheduler picks the order in which
 * close, a pool refill, the peer's bytes, a spurious wakeup and the read itself happen, with a
 * read pending and the conn starved or holding part of a frame. Each action is applied to the real
 * conn and the model in the order the scheduler chose, and they are compared after each.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConnModel, type ModelInput } from '../../model/ConnModel.js';
import type { ModelConfig } from '../../model/types.js';
import { fcParams, seedTitle } from './params.js';
import { plaintextFor, Real } from './Real.js';
import { compare, settle } from './sync.js';
import { testHooks } from '../../src/conn/testHooks.js';

describe(`races (${seedTitle()})`, () => {
  it('close / pool refill / peer bytes / wakeup / read, in any order the scheduler picks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.constantFrom(64, 1024),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 0, max: 3100 }),
        async (s, readSize, size, firstChunk) => {
          const cfg: ModelConfig = { readSize, budget: readSize + 4096, maxFrameSize: 4096 };
          const model = new ConnModel(cfg);
          const real = new Real(cfg);
          const both = async (input: ModelInput, act: () => void) => {
            act();
            model.apply(input);
            await settle(model, real);
            compare(model, real);
          };
          try {
            const p = plaintextFor(size, real.seq++);
            real.queue(real.peer.protect(p));
            await both({ kind: 'peerQueue', plaintexts: [p] }, () => {});
            await both({ kind: 'hogTake', size: 4096 }, () => void real.hogs.push(real.pool.get(4096)!));
            await both({ kind: 'read', n: size }, () => real.read(size));
            const first = Math.min(firstChunk, model.written);
            if (first > 0) await both({ kind: 'peerSend', bytes: first }, () => real.send(first));
            const actions: [string, ModelInput, () => void][] = [
              ['close', { kind: 'close' }, () => real.conn.close()],
              ['refill', { kind: 'hogGive', index: 0 }, () => real.pool.put(real.hogs.shift()!)],
              ['rest', { kind: 'peerSend', bytes: model.written }, () => real.send(model.written - first)],
              ['wakeup', { kind: 'wakeup' }, () => testHooks(real.conn).simulateWakeup()],
            ];
            // The scheduler releases the actions in the order it picks; each runs to completion
            // (applied to both, synced, compared) before the next starts.
            let chain = Promise.resolve();
            for (const [name, input, act] of actions) {
              void s.schedule(Promise.resolve(name), name).then(() => {
                chain = chain.then(async () => {
                  if (name === 'wakeup' && model.kernelHasSomething && model.state !== 'closed') return; // not spurious then
                  if (name === 'rest' && model.released) return;
                  await both(input, act);
                });
              });
            }
            await s.waitAll();
            await chain;
            await real.reads[0]!.promise;
            expect(real.conn.heldBytes).toBe(0 + (model.state === 'closed' ? 0 : model.heldBytes));
            const o = model.reads[0]!;
            expect(o.status === 'ok' || (o.status === 'error' && o.code === 'CLOSED')).toBe(true);
          } finally {
            real.dispose();
          }
        },
      ),
      fcParams(100),
    );
  });
});
