/**
 * Taking a connected socket over from Node: the addon may only poll an fd libuv
 * does not already watch, and Node must not have read a byte of it. So: dup the fd (CLOEXEC),
 * destroy the net.Socket (libuv closes its own fd and stops any read it had started; the
 * connection lives on in the dup), and hand the dup to a ReadyHandle. All of it is synchronous,
 * so libuv has no chance to read between the check and the destroy.
 *
 * Which sockets qualify (test/native/takeover.test.ts): any connected net.Socket Node has not
 * read a byte from. Node reads only in the poll phase of a later loop turn, so these always do:
 * - server side: accepted with `net.createServer({ pauseOnConnect: true })`, or taken over in
 *   the 'connection' listener itself;
 * - client side: taken over in the 'connect' listener (flowing or paused: `connect()` pauses
 *   first anyway), or later if it was paused before 'connect'. A socket Node has read from is
 *   refused: those bytes are in Node's hands.
 * @module
 */
import net from 'node:net';
import { ioError } from './io/ioError.js';
import { loadNative, type NativeBinding } from './native.js';

interface TcpHandle {
  fd?: unknown;
}

const HOW =
  'accept it with net.createServer({ pauseOnConnect: true }), or take it over in its \'connect\' listener (or pause() it right after net.connect())';

/** A socket the native reader cannot take: a RangeError naming it, with the way out. */
function unusable(why: string): RangeError {
  return new RangeError(`"socket" ${why} (or use reader: 'stream', which takes any socket)`);
}

/** Has Node read nothing from `socket` (no byte read, none buffered, no EOF seen)? Then it can be taken over. */
export function nothingRead(socket: net.Socket): boolean {
  return socket.bytesRead === 0 && socket.readableLength === 0 && !socket.readableEnded;
}

/**
 * Moves `socket`'s connection to a new fd owned by the caller (to be given to a ReadyHandle)
 * and destroys `socket`. Throws (leaving `socket` untouched) if Node may already have read
 * from it, has writes queued, is still connecting, or has no fd (destroyed, or Windows).
 */
export function takeOverSocket(socket: net.Socket, binding: NativeBinding = loadNative()): number {
  if (!(socket instanceof net.Socket)) throw new TypeError('"socket" expected net.Socket');
  if (socket.connecting) throw unusable(`is still connecting; take it over on 'connect'`);
  const handle = (socket as unknown as { _handle?: TcpHandle | null })._handle;
  const fd = handle?.fd;
  if (socket.destroyed || typeof fd !== 'number' || fd < 0) {
    throw unusable('has no fd (destroyed, not connected, or not a POSIX stream socket)');
  }
  if (!nothingRead(socket)) {
    throw unusable(`has been read from by Node, so those bytes would be lost; ${HOW}`);
  }
  if (socket.writableLength > 0) {
    throw unusable('has writes queued in Node; take it over before writing');
  }
  const dup = binding.dup(fd);
  if (dup < 0) throw ioError('dup', dup); // IO_ERROR with its errno (EMFILE: out of fds)
  // Closes Node's fd synchronously (uv_close on a stream closes it at once); no shutdown, so
  // the connection itself stays open through the dup.
  socket.destroy();
  return dup;
}
