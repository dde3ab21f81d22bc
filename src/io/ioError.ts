/**
 * Turning system errors into AltsError IO_ERROR with the errno name (fault: io).
 * @module
 */
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { AltsError } from '../errors.js';
import { errnoName } from '../native.js';

export function ioError(syscall: string, negErrno: number): AltsError {
  const name = errnoName(negErrno);
  return new AltsError('IO_ERROR', `${syscall} failed: ${name}`, { errno: name });
}

/**
 * The socket's own error, learnt from the readiness poll (a reset): worded by what failed for
 * the user, the socket, not by the libuv call that noticed it.
 */
export function socketError(negErrno: number): AltsError {
  const name = errnoName(negErrno);
  return new AltsError('IO_ERROR', socketMessage(name, -Math.abs(negErrno)), { errno: name });
}

/** A Node stream's error, worded like socketError. */
export function fromNodeError(err: unknown): AltsError {
  const { code, errno } = (err ?? {}) as { code?: unknown; errno?: unknown };
  const name = typeof code === 'string' ? code : 'EIO';
  return new AltsError('IO_ERROR', socketMessage(name, typeof errno === 'number' ? errno : 0), { errno: name, cause: err });
}

function socketMessage(name: string, negErrno: number): string {
  const what = getSystemErrorMap().get(negErrno)?.[1];
  return `socket error: ${name}${what === undefined ? '' : ` (${what})`}`;
}

export const EAGAIN = constants.errno.EAGAIN;
export const ENOTCONN = constants.errno.ENOTCONN;
export const EPIPE = constants.errno.EPIPE;
