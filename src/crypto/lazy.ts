/**
 * A direction built at its first use, so nothing is held while a connection waits. An
 * idle connection's two directions are these small shells sharing one recipe: the backend's
 * factory, the protocol, the key bytes; each shell adds only its side and start index. No cipher
 * objects, no counter state, no closures. Anything that touches the direction (a frame, the
 * counter, framesLeft) builds it, once. The conn's crypters come from here (createCrypters'
 * `lazy` option); the sans-IO protector and direct callers get built directions.
 * @module
 */
import type { BackendFactory } from './registry.js';
import { counterAt } from '../record/counter.js';
import type { DirectionCrypter, RecordProtocol, Side } from './types.js';

/** `framesLeft` of a built direction that does not report it: the saturated value (no pre-check). */
const SATURATED = 2 ** 32;

/** What both directions of one connection are built from; every field already checked. */
export interface LazyRecipe {
  make: BackendFactory;
  protocol: RecordProtocol;
  /** The key bytes as a one-byte string (keyString): a copy that costs no off-heap backing store. */
  key: string;
  overflowBytes: number;
}

/**
 * A copy of `key` as a latin1 string. A Uint8Array's off-heap backing store costs about 0.5 KB of
 * RSS, per idle connection here; a short one-byte string lives in the JS heap.
 */
export function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

export class LazyDirection implements DirectionCrypter {
  #recipe: LazyRecipe | null;
  readonly #side: Side;
  readonly #at: bigint;
  #built: DirectionCrypter | null = null;

  /** `recipe.make` must not throw for these (checked) values. `at`: the start counter as a frame index. */
  constructor(recipe: LazyRecipe, side: Side, at: bigint) {
    this.#recipe = recipe;
    this.#side = side;
    this.#at = at;
  }

  /** Has the direction been built (its first frame, or a look at its counter)? */
  get built(): boolean {
    return this.#built !== null;
  }

  #get(): DirectionCrypter {
    if (this.#built === null) {
      const r = this.#recipe!;
      const key = new Uint8Array(Buffer.from(r.key, 'latin1'));
      this.#built = r.make({ protocol: r.protocol, key, counter: counterAt(this.#side, this.#at, r.overflowBytes), overflowBytes: r.overflowBytes });
      this.#recipe = null; // the key bytes go with it once both directions are built
    }
    return this.#built;
  }

  seal(buf: Uint8Array, off: number, n: number): void {
    this.#get().seal(buf, off, n);
  }
  open(src: Uint8Array, off: number, n: number, dst: Uint8Array, dstOff: number): void {
    this.#get().open(src, off, n, dst, dstOff);
  }
  sealTo(src: Uint8Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number): void {
    const d = this.#get();
    if (d.sealTo !== undefined) return d.sealTo(src, srcOff, n, dst, dstOff);
    dst.set(src.subarray(srcOff, srcOff + n), dstOff);
    d.seal(dst, dstOff, n);
  }
  get counter(): bigint {
    return this.#get().counter;
  }
  framesLeft(): number {
    const d = this.#get();
    return d.framesLeft !== undefined ? d.framesLeft() : SATURATED;
  }
}
