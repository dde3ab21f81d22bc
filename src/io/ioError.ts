/**
 * Turning system errors into AltsError IO_ERROR with the errno name (fault: io).
 * @module
 */
import { constants } from 'node:os';
import { AltsError } from '../errors.js';

const NAMES = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v as number, k]));

export function errnoName(negOrPosErrno: number): string {
  return NAMES.get(Math.abs(negOrPosErrno)) ?? `E${Math.abs(negOrPosErrno)}`;
}

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
