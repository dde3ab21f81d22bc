/** Argument checks of the binding: TypeError for a wrong type, RangeError for a wrong value, the argument named. */
import { describe, expect, it } from 'vitest';
import type { ReadyHandle } from '../../src/native.js';
import { native } from './helpers.js';

type Call = [what: string, fn: () => unknown, cls: typeof TypeError | typeof RangeError, arg: string];

function expectThrow(fn: () => unknown, cls: typeof TypeError | typeof RangeError, arg: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(cls);
  expect((err as Error).constructor).toBe(cls); // RangeError is not a TypeError and vice versa
  expect((err as Error).message).toContain(`"${arg}"`);
}

describe('argument validation', () => {
  const [x, y] = native.socketpair();
  const h: ReadyHandle = new native.ReadyHandle(x, () => {});
  const buf = new Uint8Array(8);
  const any = h as unknown as Record<string, (...a: unknown[]) => unknown>;
  const N = native as unknown as Record<string, (...a: unknown[]) => unknown>;
  const Ctor = native.ReadyHandle as unknown as new (...a: unknown[]) => ReadyHandle;

  const calls: Call[] = [
    ['ctor fd string', () => new Ctor('3', () => {}), TypeError, 'fd'],
    ['ctor fd negative', () => new Ctor(-1, () => {}), RangeError, 'fd'],
    ['ctor fd fractional', () => new Ctor(1.5, () => {}), RangeError, 'fd'],
    ['ctor fd huge', () => new Ctor(2 ** 31, () => {}), RangeError, 'fd'],
    ['ctor onReady missing', () => new Ctor(y), TypeError, 'onReady'],
    ['watch readable', () => any.watch!.call(h, 1, false), TypeError, 'readable'],
    ['watch writable', () => any.watch!.call(h, true, undefined), TypeError, 'writable'],
    ['read buf number', () => any.read!.call(h, 8, 0, 1), TypeError, 'buf'],
    ['read buf Int8Array', () => any.read!.call(h, new Int8Array(8), 0, 1), TypeError, 'buf'],
    ['read buf ArrayBuffer', () => any.read!.call(h, new ArrayBuffer(8), 0, 1), TypeError, 'buf'],
    ['read off string', () => any.read!.call(h, buf, '0', 1), TypeError, 'off'],
    ['read off negative', () => h.read(buf, -1, 1), RangeError, 'off'],
    ['read off past end', () => h.read(buf, 9, 0), RangeError, 'off'],
    ['read off NaN', () => h.read(buf, NaN, 1), RangeError, 'off'],
    ['read len zero', () => h.read(buf, 0, 0), RangeError, 'len'],
    ['read len past end', () => h.read(buf, 4, 5), RangeError, 'len'],
    ['read len missing', () => any.read!.call(h, buf, 0), TypeError, 'len'],
    ['write buf string', () => any.write!.call(h, 'abc', 0, 3), TypeError, 'buf'],
    ['write off past end', () => h.write(buf, 9, 0), RangeError, 'off'],
    ['write len past end', () => h.write(buf, 8, 1), RangeError, 'len'],
    ['write len Infinity', () => h.write(buf, 0, Infinity), RangeError, 'len'],
    ['writev not array', () => any.writev!.call(h, buf), TypeError, 'bufs'],
    ['writev bad element', () => any.writev!.call(h, [buf, 'x']), TypeError, 'bufs[1]'],
    ['dup string', () => N.dup!('1'), TypeError, 'fd'],
    ['closeFd negative', () => native.closeFd(-3), RangeError, 'fd'],
    ['setSocketBuffers rcvbuf', () => native.setSocketBuffers(y, -1, 0), RangeError, 'rcvbuf'],
    ['setSocketBuffers sndbuf', () => N.setSocketBuffers!(y, 0, null), TypeError, 'sndbuf'],
  ];

  it.each(calls)('%s', (_what, fn, cls, arg) => expectThrow(fn, cls, arg));

  it('checks arguments before the closed state, and a bad call leaves the handle usable', () => {
    expect(h.write(buf, 0, 1)).toBe(1); // still works after all the rejected calls
    h.close();
    expectThrow(() => h.read(buf, 0, 0), RangeError, 'len');
    expectThrow(() => any.writev!.call(h, 'x'), TypeError, 'bufs');
    expect(h.read(buf, 0, 1)).toBeLessThan(0);
    native.closeFd(y);
  });

  it('a failed constructor does not take the fd: the caller still owns it', () => {
    const [a, b] = native.socketpair();
    expect(native.closeFd(a)).toBe(0);
    expect(() => new native.ReadyHandle(a, () => {})).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(native.closeFd(b)).toBe(0);
  });

  it('the message says what was expected and what came', () => {
    expect(() => h.read(buf, 2, 7)).toThrow('"len" expected integer in 1..6, got 7');
    expect(() => any.read!.call(h, null, 0, 1)).toThrow('"buf" expected Uint8Array, got null');
    expect(() => any.read!.call(h, new Uint16Array(2), 0, 1)).toThrow('"buf" expected Uint8Array, got Uint16Array');
  });
});
