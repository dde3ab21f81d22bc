/**
 * A backend from outside this module tree registers here under the name `native`, and then
 * replaces the addon's own native backend (crypto/native.ts, used when nothing is registered):
 * e.g. another native AEAD, or a test double. `noble` and `node` are built in (crypto/index.ts)
 * and cannot be replaced.
 * @module
 */
import { aoneOf } from '../_check.js';
import { BACKENDS, type Backend, type DirectionCrypter, type DirectionOptions } from './types.js';

/** Builds one direction; `o` is already checked (protocol, key length, counter). */
export type BackendFactory = (o: DirectionOptions) => DirectionCrypter;

const registered = new Map<Backend, BackendFactory>();

export function registerBackend(name: Backend, factory: BackendFactory): void {
  aoneOf('name', name, BACKENDS);
  if (name === 'noble' || name === 'node') throw new RangeError(`"name": the '${name}' backend is built in and cannot be replaced`);
  if (typeof factory !== 'function') throw new TypeError(`"factory" expected function, got ${typeof factory}`);
  registered.set(name, factory);
}

export function registeredBackend(name: Backend): BackendFactory | undefined {
  return registered.get(name);
}
