/**
 * Taking a connected socket over from Node (DESIGN §2): the addon may only poll an fd libuv
 * does not already watch, and Node must not have read a byte of it. So: dup the fd (CLOEXEC),
 * destroy the net.Socket (libuv closes its own fd; the connection lives on in the dup), and
 * hand the dup to a ReadyHandle.
 *
 * Which sockets qualify (test/native/takeover.test.ts):
 * - server side: accepted with `net.createServer({ pauseOnConnect: true })`;
 * - client side: `const s = net.connect(...); s.pause();` synchronously, before 'connect',
 *   then take it over on 'connect'. A client left flowing starts reading at 'connect' and is
 *   refused (bytes may already be in Node's hands).
 * @module
 */
import net from 'node:net';
import { ioError } from './io/ioError.js';
import { loadNative, type NativeBinding } from './native.js';

interface TcpHandle {
  fd?: unknown;
  reading?: unknown;
}

const HOW =
  'accept it with net.createServer({ pauseOnConnect: true }), or call socket.pause() right after net.connect() and take it over on \'connect\'';

/**
 * Moves `socket`'s connection to a new fd owned by the caller (to be given to a ReadyHandle)
 * and destroys `socket`. Throws (leaving `socket` untouched) if Node may already have read
 * from it, has writes queued, is still connecting, or has no fd (destroyed, or Windows).
 */
export function takeOverSocket(socket: net.Socket, binding: NativeBinding = loadNative()): number {
  if (!(socket instanceof net.Socket)) throw new TypeError('"socket" expected net.Socket');
  if (socket.connecting) throw new Error(`takeOverSocket: the socket is still connecting; take it over on 'connect'`);
  const handle = (socket as unknown as { _handle?: TcpHandle | null })._handle;
  const fd = handle?.fd;
  if (socket.destroyed || typeof fd !== 'number' || fd < 0) {
    throw new Error('takeOverSocket: the socket has no fd (destroyed, not connected, or not a POSIX stream socket)');
  }
  if (handle!.reading === true || socket.bytesRead > 0 || socket.readableLength > 0 || socket.readableEnded) {
    throw new Error(`takeOverSocket: Node has started reading this socket, so bytes may be lost; ${HOW}`);
  }
  if (socket.writableLength > 0) {
    throw new Error('takeOverSocket: the socket has writes queued in Node; take it over before writing');
  }
  const dup = binding.dup(fd);
  if (dup < 0) throw ioError('dup', dup); // IO_ERROR with its errno (EMFILE: out of fds)
  // Closes Node's fd synchronously (uv_close on a stream closes it at once); no shutdown, so
  // the connection itself stays open through the dup.
  socket.destroy();
  return dup;
}
