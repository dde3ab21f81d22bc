/** Hand-written command sequences every CI run starts with (fc `examples`): rare paths made certain. */
import type { ModelConfig } from '../../model/types.js';
import { CallerReadCommand } from './commands/CallerReadCommand.js';
import { HogPoolCommand } from './commands/HogPoolCommand.js';
import { PeerFramesCommand } from './commands/PeerFramesCommand.js';
import { PeerSendChunkCommand } from './commands/PeerSendChunkCommand.js';
import { ReleaseHogCommand } from './commands/ReleaseHogCommand.js';
import type { ConnCommand } from './commands/step.js';

/** A partial frame cannot grow while others hold the pool; one gives back; it grows and completes. */
export const growthRefilled: [ModelConfig, ConnCommand[]] = [
  { readSize: 1024, budget: 4096, maxFrameSize: 4096 },
  [
    new HogPoolCommand(1024),
    new HogPoolCommand(2048),
    new PeerFramesCommand([3000]),
    new CallerReadCommand(3000),
    new PeerSendChunkCommand(1024),
    new ReleaseHogCommand(1),
    new PeerSendChunkCommand(5000),
  ],
];

/** Regression (fixed): starved on growth, the conn must resume once the exchange fits (waitFor's givesBack), not wait for get(want). */
export const growthStuck: [ModelConfig, ConnCommand[]] = [
  { readSize: 1024, budget: 4096, maxFrameSize: 4096 },
  [
    new HogPoolCommand(2048),
    new HogPoolCommand(64),
    new PeerFramesCommand([3000]),
    new CallerReadCommand(3000),
    new PeerSendChunkCommand(1024),
    new ReleaseHogCommand(1),
  ],
];
