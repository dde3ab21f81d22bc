/**
 * Hostile peer byte streams, as small printable recipes that fast-check
 * generates and shrinks, built into bytes only when a case runs: random bytes; valid frames with
 * one field broken (length, type, a ciphertext or tag byte, or the order: swap, replay, drop, a
 * frame sealed by the wrong side); valid frames then garbage; and a frame whose length sits at
 * one of the limits of docs/spec.md §1 (0, 19/20/21, around the size classes, 1 MiB ± 1, 2^31,
 * 2^32 − 1) with a sealed, short or random body. The oracle is the sans-IO record layer
 * (createProtector, side 'client'): what the conn must deliver, and the error it must end in.
 */
import fc from 'fast-check';
import { createCrypters } from '../../src/crypto/index.js';
import type { DirectionCrypter, RecordProtocol, Side } from '../../src/crypto/types.js';
import type { AltsErrorCode } from '../../src/errors.js';
import { createProtector } from '../../src/protector.js';
import {
  FRAME_OVERHEAD,
  LENGTH_FIELD_BYTES,
  MAX_FRAME_LENGTH,
  MESSAGE_TYPE,
  MIN_FRAME_LENGTH,
  TYPE_FIELD_BYTES,
} from '../../src/record/constants.js';
import { keyFor } from '../../test/conn/harness.js';
import { plaintextFor } from '../conn/Real.js';

/** The largest payload a reader accepts: a frame whose `len` is exactly 1 MiB. */
export const MAX_PAYLOAD = MAX_FRAME_LENGTH - MIN_FRAME_LENGTH;

export type Break =
  | { field: 'len'; value: number }
  | { field: 'type'; value: number }
  | { field: 'ciphertext' | 'tag'; at: number; xor: number }
  | { field: 'swap' | 'replay' | 'drop' | 'wrongSide' };

export type Recipe =
  | { kind: 'random'; lenPrefix: number | null; bytes: Uint8Array }
  | { kind: 'broken'; payloads: number[]; target: number; brk: Break }
  | { kind: 'garbage'; payloads: number[]; garbage: Uint8Array }
  | { kind: 'limit'; payloads: number[]; len: number; type: number; body: 'sealed' | 'short' | 'random'; bodyBytes: number };

export interface ReadStep {
  size: number;
  /** readOnReady(size, callerPool) instead of read(new Uint8Array(size)). */
  onReady: boolean;
}

export interface HostileCase {
  protocol: RecordProtocol;
  recipe: Recipe;
  /** Where the peer splits its writes (taken modulo the stream length). */
  cuts: number[];
  /** Also split at every byte of the first 9: the length and type fields one byte at a time. */
  headerBytewise: boolean;
  /** eof: the peer closes. reset: the conn wrote a byte the peer never reads, then the peer closes (ECONNRESET). */
  ending: 'eof' | 'reset';
  reader: 'native' | 'stream';
  readSize: number;
  /** null: no budget. Budgets below one maximal frame are met by the pool's overdraft (docs/spec.md §5). */
  budget: number | null;
  reads: ReadStep[];
}

/** Lengths at the limits: below/at/above the minimum, around size classes, around 1 MiB, and huge. */
export const EDGE_LENGTHS: readonly number[] = [
  0, 1, 3, 4, 19, 20, 21, 24, 60, 61, 64 * 1024 - 4, 64 * 1024 - 3, MAX_FRAME_LENGTH - 1, MAX_FRAME_LENGTH,
  MAX_FRAME_LENGTH + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1,
];

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/**
 * One frame of `n` payload bytes sealed by `out` (its counter advances). Built by hand rather than
 * with sealFramesInto because the limits need the empty frame and the one of `len` exactly 1 MiB,
 * which no writer's maxFrameSize produces.
 */
export function sealOne(out: DirectionCrypter, n: number, seq: number): Uint8Array {
  const f = new Uint8Array(n + FRAME_OVERHEAD);
  f.set(u32(n + MIN_FRAME_LENGTH), 0);
  f.set(u32(MESSAGE_TYPE), LENGTH_FIELD_BYTES);
  f.set(plaintextFor(n, seq), LENGTH_FIELD_BYTES + TYPE_FIELD_BYTES);
  out.seal(f, LENGTH_FIELD_BYTES + TYPE_FIELD_BYTES, n);
  return f;
}

export function sealer(protocol: RecordProtocol, side: Side): DirectionCrypter {
  return createCrypters({ protocol, side, key: keyFor(protocol) }).outbound;
}

/** The bytes the peer (side 'server') sends for `r`. */
export function buildStream(protocol: RecordProtocol, r: Recipe): Uint8Array {
  // A plausible header in front of random bytes gets past the length check to the type and tag.
  if (r.kind === 'random') return r.lenPrefix === null ? r.bytes : Buffer.concat([u32(r.lenPrefix), u32(MESSAGE_TYPE), r.bytes]);
  const out = sealer(protocol, 'server');
  const frames = r.payloads.map((n, i) => sealOne(out, n, i));
  if (r.kind === 'garbage') return Buffer.concat([...frames, r.garbage]);
  if (r.kind === 'limit') {
    const last = r.payloads.length;
    if (r.body === 'sealed' && r.len >= MIN_FRAME_LENGTH && r.len <= MAX_FRAME_LENGTH) {
      const f = sealOne(out, r.len - MIN_FRAME_LENGTH, last);
      f.set(u32(r.type), LENGTH_FIELD_BYTES);
      return Buffer.concat([...frames, f]);
    }
    // Random bytes after the header: all the frame claims (capped at 1 MiB), or fewer ('short').
    const claimed = Math.min(Math.max(r.len - TYPE_FIELD_BYTES, 0), MAX_FRAME_LENGTH);
    const n = r.body === 'random' ? claimed : Math.min(r.bodyBytes, Math.max(claimed - 1, 0));
    return Buffer.concat([...frames, u32(r.len), u32(r.type), plaintextFor(n, last + 7)]);
  }
  const t = r.target % frames.length;
  const f = frames[t]!;
  const brk = r.brk;
  switch (brk.field) {
    case 'len':
      f.set(u32(brk.value), 0);
      break;
    case 'type':
      f.set(u32(brk.value), LENGTH_FIELD_BYTES);
      break;
    case 'ciphertext':
    case 'tag': {
      const body = f.length - FRAME_OVERHEAD; // ciphertext bytes; the tag is the last 16
      const at = brk.field === 'tag' || body === 0 ? f.length - 16 + (brk.at % 16) : 8 + (brk.at % body);
      f[at]! ^= brk.xor;
      break;
    }
    case 'swap':
      if (frames.length > 1) [frames[t], frames[(t + 1) % frames.length]] = [frames[(t + 1) % frames.length]!, f];
      else frames.push(frames[0]!); // a lone frame: replay it instead
      break;
    case 'replay':
      frames.splice(t + 1, 0, f);
      break;
    case 'drop':
      // The frame after a dropped one fails. A dropped last frame is replaced by the first (a
      // replay); a lone frame is replayed after itself.
      if (t < frames.length - 1) frames.splice(t, 1);
      else if (frames.length > 1) frames[t] = frames[0]!;
      else frames.push(f);
      break;
    case 'wrongSide':
      frames[t] = sealOne(sealer(protocol, 'client'), r.payloads[t]!, t);
      break;
  }
  return Buffer.concat(frames);
}

export interface Expected {
  /** Every byte of plaintext the conn must hand up, in order. */
  plaintext: Uint8Array;
  /** The error the stream must end in after the peer's EOF; null: a clean EOF (the stream was all good frames). */
  code: AltsErrorCode | null;
}

/** The sans-IO record layer's verdict on the whole stream followed by EOF. */
export function oracle(protocol: RecordProtocol, stream: Uint8Array): Expected {
  const p = createProtector({ protocol, side: 'client', key: keyFor(protocol) });
  const r = p.unprotectAll(stream);
  return { plaintext: r.plaintext, code: r.error?.code ?? (p.pendingBytes > 0 ? 'TRUNCATED' : null) };
}

// ---- arbitraries ------------------------------------------------------------------------

/** Payload sizes: mostly small, some across the 64 KiB read size, now and then the 1 MiB maximum. */
const arbPayload = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 3000 }) },
  { weight: 3, arbitrary: fc.integer({ min: 3000, max: 70_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(MAX_PAYLOAD, MAX_PAYLOAD - 1) },
);
const arbPayloads = (min: number) => fc.array(arbPayload, { minLength: min, maxLength: 4 });
const arbLength = fc.oneof(fc.constantFrom(...EDGE_LENGTHS), fc.nat({ max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 200 }));

const arbBreak: fc.Arbitrary<Break> = fc.oneof(
  fc.record({ field: fc.constant('len' as const), value: arbLength }),
  fc.record({ field: fc.constant('type' as const), value: fc.oneof(fc.constantFrom(0, 5, 7, 0x106, 0x0600, 2 ** 32 - 1), fc.nat({ max: 2 ** 32 - 1 })) }),
  fc.record({ field: fc.constantFrom('ciphertext' as const, 'tag' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ field: fc.constantFrom('swap' as const, 'replay' as const, 'drop' as const, 'wrongSide' as const) }),
);

export const arbRecipe: fc.Arbitrary<Recipe> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('random' as const),
      lenPrefix: fc.option(fc.integer({ min: MIN_FRAME_LENGTH, max: 700 })),
      bytes: fc.uint8Array({ maxLength: 600 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('broken' as const), payloads: arbPayloads(1), target: fc.nat({ max: 3 }), brk: arbBreak }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('garbage' as const), payloads: arbPayloads(0), garbage: fc.uint8Array({ minLength: 1, maxLength: 64 }) }) },
  { weight: 2, arbitrary: fc.record({
    kind: fc.constant('limit' as const),
    payloads: fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 2 }),
    len: arbLength,
    type: fc.oneof({ weight: 4, arbitrary: fc.constant(MESSAGE_TYPE) }, { weight: 1, arbitrary: fc.nat({ max: 2 ** 32 - 1 }) }),
    body: fc.constantFrom('sealed' as const, 'short' as const, 'random' as const),
    bodyBytes: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.nat({ max: MAX_FRAME_LENGTH })),
  }) },
);

const arbRead: fc.Arbitrary<ReadStep> = fc.record({
  size: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 70_000 }), fc.constant(MAX_PAYLOAD)),
  onReady: fc.boolean(),
});

export const arbHostileCase: fc.Arbitrary<HostileCase> = fc.record({
  protocol: fc.constantFrom<RecordProtocol>('ALTSRP_GCM_AES128_REKEY', 'ALTSRP_GCM_AES128'),
  recipe: arbRecipe,
  cuts: fc.array(fc.nat(), { maxLength: 6 }),
  headerBytewise: fc.boolean(),
  ending: fc.oneof({ weight: 4, arbitrary: fc.constant('eof' as const) }, { weight: 1, arbitrary: fc.constant('reset' as const) }),
  reader: fc.oneof({ weight: 4, arbitrary: fc.constant('native' as const) }, { weight: 1, arbitrary: fc.constant('stream' as const) }),
  readSize: fc.constantFrom(64, 4096, 64 * 1024),
  budget: fc.constantFrom(null, 64 * 1024, 128 * 1024, MAX_FRAME_LENGTH + LENGTH_FIELD_BYTES, 2 * MAX_FRAME_LENGTH),
  reads: fc.array(arbRead, { minLength: 1, maxLength: 4 }),
});

/** The chunks the peer writes: `stream` split at the case's cuts. */
export function chunksOf(c: HostileCase, stream: Uint8Array): Uint8Array[] {
  if (stream.length === 0) return [];
  const at = new Set<number>(c.cuts.map((x) => x % stream.length));
  if (c.headerBytewise) for (let i = 1; i <= 9; i++) at.add(i);
  const points = [...at].filter((x) => x > 0 && x < stream.length).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, stream.length]) {
    out.push(stream.subarray(from, p));
    from = p;
  }
  return out;
}
