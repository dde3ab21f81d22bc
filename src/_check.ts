/**
 * Argument checks at the API edge, in the style of @noble/ciphers: a wrong type is a
 * TypeError, a wrong length or value a RangeError, and every message names the argument.
 * @module
 */

export function abytes(name: string, v: unknown, ...lengths: number[]): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`"${name}" expected Uint8Array, got ${describe(v)}`);
  if (lengths.length > 0 && !lengths.includes(v.length))
    throw new RangeError(`"${name}" expected length ${lengths.join(' or ')}, got ${v.length}`);
}

export function aint(name: string, v: unknown, min: number, max: number): asserts v is number {
  if (typeof v !== 'number') throw new TypeError(`"${name}" expected integer, got ${describe(v)}`);
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw new RangeError(`"${name}" expected integer in ${min}..${max}, got ${v}`);
}

export function aoneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): asserts v is T {
  if (typeof v !== 'string') throw new TypeError(`"${name}" expected one of ${allowed.join(', ')}, got ${describe(v)}`);
  if (!(allowed as readonly string[]).includes(v))
    throw new RangeError(`"${name}" expected one of ${allowed.join(', ')}, got '${v}'`);
}

/** `o` is a plain options object (named `name`) whose keys are all in `allowed`. */
export function aoptions(name: string, o: unknown, allowed: readonly string[]): asserts o is Record<string, unknown> {
  if (typeof o !== 'object' || o === null) throw new TypeError(`"${name}" expected object, got ${describe(o)}`);
  const unknown = Object.keys(o).filter((k) => !allowed.includes(k));
  // A nested object's keys are named with their path (handshaker.targetName), top-level ones bare.
  const path = (k: string): string => (name === 'options' ? k : `${name}.${k}`);
  if (unknown.length > 0)
    throw new TypeError(`"${name}" has unknown ${unknown.length === 1 ? 'option' : 'options'} ${unknown.map((k) => `"${path(k)}"`).join(', ')}; expected ${allowed.join(', ')}`);
}

export function abool(name: string, v: unknown): asserts v is boolean {
  if (typeof v !== 'boolean') throw new TypeError(`"${name}" expected boolean, got ${describe(v)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  return typeof v;
}
