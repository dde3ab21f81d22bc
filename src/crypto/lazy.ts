/**
 * A direction built at its first use (DESIGN §2: nothing held while a connection waits). An
 * idle connection's two directions are these small shells: the key bytes and the start counter,
 * no cipher objects and no counter state. Anything that touches the direction (a frame, the
 * counter, framesLeft) builds it, once. The conn's crypters come from here (createCrypters'
 * `lazy` option); the sans-IO protector and direct callers get built directions.
 * @module
 */
import type { DirectionCrypter } from './types.js';

/** `framesLeft` of a built direction that does not report it: the saturated value (no pre-check). */
const SATURATED = 2 ** 32;

export class LazyDirection implements DirectionCrypter {
  #build: (() => DirectionCrypter) | null;
  #built: DirectionCrypter | null = null;

  /** `build` must not throw: the caller checks every argument before making the shell. */
  constructor(build: () => DirectionCrypter) {
    this.#build = build;
  }

  /** Has the direction been built (its first frame, or a look at its counter)? */
  get built(): boolean {
    return this.#built !== null;
  }

  #get(): DirectionCrypter {
    if (this.#built === null) {
      this.#built = this.#build!();
      this.#build = null; // drop the closure and, with it, the key bytes it held
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
