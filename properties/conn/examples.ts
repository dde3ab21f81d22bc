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

/** Starved on growth, the conn must resume once the exchange fits (waitFor's givesBack), not wait for get(want). */
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

/**
 * The pool never waits on itself: a read buffer bigger than the whole budget, refused while
 * another holder has bytes; once that holder gives back, nothing else is lent, so the pool lends
 * past its budget and the conn resumes rather than staying starved for ever.
 */
export const starvedPastBudget: [ModelConfig, ConnCommand[]] = [
  { readSize: 1024, budget: 192, maxFrameSize: 4096 },
  [
    new HogPoolCommand(64),
    new CallerReadCommand(100),
    new PeerFramesCommand([50]),
    new PeerSendChunkCommand(74),
    new ReleaseHogCommand(0),
  ],
];

/**
 * Starved on growth past the budget while another holder has bytes; once it gives them back, the
 * conn's own buffer is all that is lent, so the pool lends it past the budget (the exchange does
 * not fit: 128 held, 256 wanted, budget 192) and the frame keeps growing.
 */
export const growthPastBudget: [ModelConfig, ConnCommand[]] = [
  { readSize: 64, budget: 192, maxFrameSize: 4096 },
  [
    new HogPoolCommand(64),
    new PeerFramesCommand([300]),
    new CallerReadCommand(300),
    new PeerSendChunkCommand(200),
    new ReleaseHogCommand(0),
    new PeerSendChunkCommand(200),
  ],
];
