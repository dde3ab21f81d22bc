/**
 * docs/corpus: traces generated from the model over fc-generated command sequences, with every
 * byte concrete (the key, the peer's chunks as hex) so another port needs only docs/spec.md, the
 * corpus and the vectors. `generateTrace` runs the model (the peer's frames are made by the real
 * record layer from the recorded key); `replayTrace` drives the real conn through a trace.
 */
import fc from 'fast-check';
import { ConnModel, type ModelInput } from '../../model/ConnModel.js';
import type { ModelConfig, ReadOutcome } from '../../model/types.js';
import { CallerReadCommand } from './commands/CallerReadCommand.js';
import { CorruptFrameCommand } from './commands/CorruptFrameCommand.js';
import { HogPoolCommand } from './commands/HogPoolCommand.js';
import { configArb, connCommands } from './commands/index.js';
import { LocalCloseCommand } from './commands/LocalCloseCommand.js';
import { PeerEOFCommand } from './commands/PeerEOFCommand.js';
import { PeerFramesCommand } from './commands/PeerFramesCommand.js';
import { PeerResetCommand } from './commands/PeerResetCommand.js';
import { PeerSendChunkCommand } from './commands/PeerSendChunkCommand.js';
import { ReleaseHogCommand } from './commands/ReleaseHogCommand.js';
import { ReorderFrameCommand } from './commands/ReorderFrameCommand.js';
import { SpuriousWakeupCommand } from './commands/SpuriousWakeupCommand.js';
import type { ConnCommand } from './commands/step.js';
import { native, peerSealer, plaintextFor, PROTOCOL, Real, runKey } from './Real.js';
import { settle } from './sync.js';
import { testHooks } from '../../src/conn/testHooks.js';

const hex = (b: Uint8Array | number[]) => Buffer.from(b).toString('hex');

export type TraceInput =
  | { kind: 'peerSend'; hex: string } // these bytes reach the conn's socket (one write)
  | { kind: 'read'; n: number } // caller starts read(into), into.length = n
  | { kind: 'wakeup' } // run the readable path with nothing on the socket
  | { kind: 'hogTake'; size: number } // another holder: a plain pool.get(size), refused past the budget
  | { kind: 'hogGive'; index: number } // another holder puts back its (index mod count)-th buffer
  | { kind: 'peerEof' } // peer shutdown(SHUT_WR)
  | { kind: 'peerReset' } // conn writes 1 plaintext byte, peer closes without reading it
  | { kind: 'close' }; // local close

export interface TraceExpect {
  state: string;
  heldBytes: number;
  outstanding: number;
  bytesRead: number;
  eofRead: boolean;
  watching: boolean;
  starved: boolean;
  error: string | null;
  reads: ReadOutcome[];
  /** Every plaintext byte handed up so far, in order. */
  deliveredHex: string;
}

export interface Trace {
  name: string;
  protocol: string;
  /** The conn's side; the peer is the other one. */
  side: 'client';
  keyHex: string;
  peerMaxFrameSize: number;
  readSize: number;
  /** null: no budget. */
  budget: number | null;
  /** The fc-generated commands the trace came from (for humans). */
  commands: string[];
  steps: { input: TraceInput; expect: TraceExpect }[];
}

function expectOf(m: ConnModel): TraceExpect {
  return {
    state: m.state,
    heldBytes: m.heldBytes,
    outstanding: m.outstanding,
    bytesRead: m.consumed,
    eofRead: m.eofRead,
    watching: m.watching,
    starved: m.starved,
    error: m.error,
    reads: m.reads.map((r) => ({ ...r })),
    deliveredHex: hex(m.delivered),
  };
}

/** Run the model over `cmds` (skipping those whose precondition fails, as fc does), recording concrete bytes. */
export function generateTrace(name: string, cfg: ModelConfig, cmds: Iterable<ConnCommand>): Trace {
  const key = runKey();
  const peer = peerSealer(cfg.maxFrameSize, key);
  const m = new ConnModel(cfg);
  const wire: number[] = [];
  let seq = 0;
  const steps: Trace['steps'] = [];
  const commands: string[] = [];
  const push = (input: TraceInput, model: ModelInput) => {
    m.apply(model);
    steps.push({ input, expect: expectOf(m) });
  };
  for (const wrapped of cmds) {
    const c = ((wrapped as { cmd?: ConnCommand }).cmd ?? wrapped) as ConnCommand; // fc wraps each command
    if (!c.check(m)) continue;
    commands.push(String(c));
    if (c instanceof PeerFramesCommand) {
      const plaintexts = c.sizes.map((n) => plaintextFor(n, seq++));
      for (const p of plaintexts) wire.push(...peer.protect(p));
      m.apply({ kind: 'peerQueue', plaintexts });
    } else if (c instanceof CorruptFrameCommand) {
      const p = plaintextFor(c.size, seq++);
      const f = peer.protect(p);
      const bit = c.bit % ((f.length - 8) * 8);
      f[8 + (bit >> 3)]! ^= 1 << (bit & 7);
      wire.push(...f);
      m.apply({ kind: 'peerQueue', plaintexts: [p], bad: 'corrupt' });
    } else if (c instanceof ReorderFrameCommand) {
      const a = plaintextFor(c.sizeA, seq++);
      const b = plaintextFor(c.sizeB, seq++);
      const fa = peer.protect(a);
      wire.push(...peer.protect(b), ...fa);
      m.apply({ kind: 'peerQueue', plaintexts: [a, b], bad: 'reorder' });
    } else if (c instanceof PeerSendChunkCommand) {
      const n = Math.min(c.bytes, m.written - m.sent);
      push({ kind: 'peerSend', hex: hex(wire.slice(m.sent, m.sent + n)) }, { kind: 'peerSend', bytes: n });
    } else if (c instanceof CallerReadCommand) push({ kind: 'read', n: c.n }, { kind: 'read', n: c.n });
    else if (c instanceof SpuriousWakeupCommand) push({ kind: 'wakeup' }, { kind: 'wakeup' });
    else if (c instanceof HogPoolCommand) push({ kind: 'hogTake', size: c.size }, { kind: 'hogTake', size: c.size });
    else if (c instanceof ReleaseHogCommand) push({ kind: 'hogGive', index: c.index }, { kind: 'hogGive', index: c.index });
    else if (c instanceof PeerEOFCommand) push({ kind: 'peerEof' }, { kind: 'peerEof' });
    else if (c instanceof PeerResetCommand) push({ kind: 'peerReset' }, { kind: 'peerReset' });
    else if (c instanceof LocalCloseCommand) push({ kind: 'close' }, { kind: 'close' });
    // AwaitRead adds nothing to a trace: every step's expectation already lists every read.
  }
  return {
    name,
    protocol: PROTOCOL,
    side: 'client',
    keyHex: hex(key),
    peerMaxFrameSize: cfg.maxFrameSize,
    readSize: cfg.readSize,
    budget: cfg.budget === Infinity ? null : cfg.budget,
    commands,
    steps,
  };
}

export const CORPUS_SEED = 424242;

/** The corpus: `count` traces from fc-generated sequences with a fixed seed (deterministic). */
export function generateCorpus(count = 40): Trace[] {
  const samples = fc.sample(fc.tuple(configArb, connCommands(30)), { seed: CORPUS_SEED, numRuns: count });
  return samples.map(([cfg, cmds], i) => generateTrace(`trace-${String(i).padStart(3, '0')}`, cfg, cmds));
}

/** What the real conn shows, in a step's terms. */
export function observe(real: Real): TraceExpect {
  const c = real.conn;
  return {
    state: c.state,
    heldBytes: c.heldBytes,
    outstanding: real.pool.outstanding,
    bytesRead: c.stats.bytesRead,
    eofRead: real.eofWakeups > 0, // a read(2) returned 0
    watching: testHooks(c).watching,
    starved: testHooks(c).starved,
    error: c.error?.code ?? null,
    reads: real.reads.map((r) => ({ ...r.outcome })),
    deliveredHex: hex(real.delivered),
  };
}

/** Drive the real conn through a trace, calling `check(step, observed)` after each step. */
export async function replayTrace(t: Trace, check: (i: number, want: TraceExpect, got: TraceExpect) => void): Promise<void> {
  const cfg: ModelConfig = { readSize: t.readSize, budget: t.budget ?? Infinity, maxFrameSize: t.peerMaxFrameSize };
  const real = new Real(cfg);
  try {
    for (const [i, { input, expect: want }] of t.steps.entries()) {
      switch (input.kind) {
        case 'peerSend': {
          const b = Buffer.from(input.hex, 'hex');
          real.wire.push(...b);
          real.send(b.length);
          break;
        }
        case 'read':
          real.read(input.n);
          break;
        case 'wakeup':
          testHooks(real.conn).simulateWakeup();
          break;
        case 'hogTake': {
          const b = real.pool.get(input.size);
          if (b) real.hogs.push(b);
          break;
        }
        case 'hogGive':
          if (real.hogs.length) real.pool.put(real.hogs.splice(input.index % real.hogs.length, 1)[0]!);
          break;
        case 'peerEof':
          real.peerHandle.shutdownWrite();
          break;
        case 'peerReset': {
          await real.conn.write(new Uint8Array([1]));
          const before = native.stats().fdsClosed;
          real.peerHandle.close();
          while (native.stats().fdsClosed === before) await new Promise((r) => setImmediate(r));
          break;
        }
        case 'close':
          real.conn.close();
          break;
      }
      await settle({ consumed: want.bytesRead, eofRead: want.eofRead, starved: want.starved, state: want.state }, real);
      check(i, want, observe(real));
    }
  } finally {
    real.dispose();
  }
}
