/** The fc.commands arbitrary over every command, and the per-run configuration. */
import fc from 'fast-check';
import type { ModelConfig } from '../../../model/types.js';
import { AwaitReadCommand } from './AwaitReadCommand.js';
import { CallerReadCommand } from './CallerReadCommand.js';
import { CorruptFrameCommand } from './CorruptFrameCommand.js';
import { HogPoolCommand } from './HogPoolCommand.js';
import { LocalCloseCommand } from './LocalCloseCommand.js';
import { PeerEOFCommand } from './PeerEOFCommand.js';
import { PeerFramesCommand } from './PeerFramesCommand.js';
import { PeerResetCommand } from './PeerResetCommand.js';
import { PeerSendChunkCommand } from './PeerSendChunkCommand.js';
import { ReleaseHogCommand } from './ReleaseHogCommand.js';
import { ReorderFrameCommand } from './ReorderFrameCommand.js';
import { SpuriousWakeupCommand } from './SpuriousWakeupCommand.js';
import type { ConnCommand } from './step.js';

/** Sizes: mostly small (frames fit a 64-byte buffer, headers split), sometimes several KiB (growth, split by the writer). */
const size = (max: number) => fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 700 }), fc.integer({ min: 1, max }));
/** Chunks: inside the 4-byte length, mid-frame, several frames at once. */
const chunk = fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 20_000 }));

export const configArb: fc.Arbitrary<ModelConfig> = fc.record({
  readSize: fc.constantFrom(64, 128, 1024, 65536),
  budget: fc.constantFrom(Infinity, 64, 192, 1024, 4096, 8192, 65536, 65536 + 8192),
  maxFrameSize: fc.constant(4096),
});

/** Weighted so that a run does a lot before an ending (EOF, reset, close, a bad frame) ends it. */
const weighted: { arbitrary: fc.Arbitrary<ConnCommand>; weight: number }[] = [
  { weight: 6, arbitrary: fc.array(size(6000), { minLength: 1, maxLength: 3 }).map((s) => new PeerFramesCommand(s)) },
  // 0: an empty frame (len = 20), which a peer may send and a writer never does.
  { weight: 1, arbitrary: fc.array(fc.oneof(fc.constant(0), size(300)), { minLength: 1, maxLength: 4 }).map((s) => new PeerFramesCommand(s)) },
  { weight: 1, arbitrary: fc.tuple(size(4000), fc.nat()).map(([n, bit]) => new CorruptFrameCommand(n, bit)) },
  { weight: 1, arbitrary: fc.tuple(size(4000), size(4000)).map(([a, b]) => new ReorderFrameCommand(a, b)) },
  { weight: 10, arbitrary: chunk.map((n) => new PeerSendChunkCommand(n)) },
  { weight: 10, arbitrary: size(8000).map((n) => new CallerReadCommand(n)) },
  { weight: 2, arbitrary: fc.constant(new AwaitReadCommand()) },
  { weight: 3, arbitrary: fc.constant(new SpuriousWakeupCommand()) },
  { weight: 3, arbitrary: fc.constantFrom(64, 256, 1024, 1024, 2048, 4096, 65536).map((n) => new HogPoolCommand(n)) },
  { weight: 3, arbitrary: fc.nat(7).map((i) => new ReleaseHogCommand(i)) },
  { weight: 1, arbitrary: fc.constant(new PeerEOFCommand()) },
  { weight: 1, arbitrary: fc.constant(new PeerResetCommand()) },
  { weight: 1, arbitrary: fc.constant(new LocalCloseCommand()) },
];

export const commandArbs: fc.Arbitrary<ConnCommand>[] = [fc.oneof(...weighted)];

export function connCommands(maxCommands = 40): fc.Arbitrary<Iterable<ConnCommand>> {
  return fc.commands(commandArbs, { maxCommands, size: 'max' });
}
