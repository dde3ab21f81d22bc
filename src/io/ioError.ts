/**
 * Turning system errors into AltsError IO_ERROR with the errno name (fault: io).
 * @module
 */
import { constants } from 'node:os';
import { AltsError } from '../errors.js';
import { errnoName } from '../native.js';


export function ioError(syscall: string, negErrno: number): AltsError {
  const name = errnoName(negErrno);
  return new AltsError('IO_ERROR', `${syscall} failed: ${name}`, { errno: name });
}

export function fromNodeError(err: unknown): AltsError {
  const code = (err as { code?: unknown })?.code;
  const name = typeof code === 'string' ? code : 'EIO';
  return new AltsError('IO_ERROR', `socket failed: ${name}`, { errno: name, cause: err });
}

export const EAGAIN = constants.errno.EAGAIN;
export const ENOTCONN = constants.errno.ENOTCONN;
export const EPIPE = constants.errno.EPIPE;
