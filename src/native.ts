/**
 * Typed loader for the `alts_native` addon (binding.gyp, native/): readiness notifications
 * (libuv uv_poll) and non-blocking read/write on a socket fd the addon owns alone.
 * The rest of `src/` imports only these interfaces, never an untyped binding.
 *
 * Loading never throws at import time: `tryLoadNative()` returns null (and
 * `nativeLoadError()` says why) so callers can fall back to the stream reader.
 * @module
 */
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** libuv's uv_poll_event bits, as passed to `onReady`. */
export const UV_READABLE = 1;
export const UV_WRITABLE = 2;
export const UV_DISCONNECT = 4;

/** Errno values (positive) for comparing against the negated results of the binding. */
export const EAGAIN: number = constants.errno.EAGAIN;
export const EBADF: number = constants.errno.EBADF;
export const EPIPE: number = constants.errno.EPIPE;
export const ECONNRESET: number = constants.errno.ECONNRESET;
export const ENOTCONN: number = constants.errno.ENOTCONN;

/**
 * One socket fd owned exclusively by the addon. Level-triggered: `onReady` keeps firing while
 * the fd is ready for a watched direction, so stop watching when you cannot take data.
 * Read/write results are n >= 0 or a negative errno (EWOULDBLOCK is reported as -EAGAIN).
 */
export interface ReadyHandle {
  /** The owned fd, or -1 once closed. */
  readonly fd: number;
  readonly closed: boolean;
  /** The callback given to the constructor (stored on the object so GC can trace it). */
  readonly onReady: (status: number, events: number) => void;
  /**
   * uv_poll_start with these events (both false: uv_poll_stop). While watching, the handle is
   * kept alive (it cannot be GC'd with a readiness pending). No-op after close. Throws a
   * system Error (`code`, `errno`) if uv_poll_start fails.
   */
  watch(readable: boolean, writable: boolean): void;
  /** One read(2) into buf[off, off+len), len >= 1: n > 0, 0 at EOF, or -errno (-EAGAIN: nothing there; -EBADF after close). */
  read(buf: Uint8Array, off: number, len: number): number;
  /** One send(2) (MSG_NOSIGNAL) of buf[off, off+len): bytes written or -errno (-EAGAIN: socket buffer full). */
  write(buf: Uint8Array, off: number, len: number): number;
  /** One sendmsg/writev(2) of at most IOV_MAX (1024 on Linux) buffers, the rest ignored: bytes written or -errno. */
  writev(bufs: readonly Uint8Array[]): number;
  /** shutdown(SHUT_WR): 0 or -errno. */
  shutdownWrite(): number;
  /**
   * Idempotent. Stops polling at once (no further onReady) and uv_closes the poll handle; the fd
   * is closed exactly once in the uv_close callback, i.e. later in this loop iteration. With
   * `abort`, SO_LINGER {on, 0} is set first, so the close resets a TCP connection (the peer reads
   * ECONNRESET, not EOF) and discards what is unsent. A non-boolean `abort` is a TypeError.
   */
  close(abort?: boolean): void;
}

export interface ReadyHandleConstructor {
  /**
   * Takes ownership of `fd` (sets O_NONBLOCK, uv_poll_init on the current loop). If this throws,
   * the caller still owns `fd`. `onReady(status, events)`: `status` < 0 is a libuv/system error
   * (a socket's pending error such as -ECONNRESET, read and so cleared from the socket; polling
   * has then stopped and read(2) returns what is queued, then EOF), `events` is a mask
   * of UV_READABLE | UV_WRITABLE. An exception thrown by onReady is an uncaught exception.
   */
  new (fd: number, onReady: (status: number, events: number) => void): ReadyHandle;
}

/** Module-wide counters since the addon was loaded (shared by all threads). */
export interface NativeStats {
  /** Poll handles initialised and not yet closed. */
  handles: number;
  /** fds closed by ReadyHandles (close() or GC), each exactly once. */
  fdsClosed: number;
  /** uv_poll_start calls. */
  pollsStarted: number;
  /** onReady invocations. */
  callbacks: number;
}

/**
 * AES-GCM (12-byte nonce, 16-byte tag) with one key, through the EVP API of the OpenSSL inside
 * Node (native/aead.cc): the key schedule is set once, each call sets only the IV. Offsets and
 * lengths outside the arrays are a RangeError, wrong types a TypeError, each naming the argument.
 */
export interface AesGcm {
  /** 16 (AES-128) or 32 (AES-256). */
  readonly keyBytes: number;
  /** Encrypt buf[off, off+n) in place and write the tag to buf[off+n, off+n+16). */
  seal(nonce: Uint8Array, buf: Uint8Array, off: number, n: number, aad?: Uint8Array): void;
  /** Encrypt src[srcOff, srcOff+n) into dst[dstOff, dstOff+n) and write the tag after it (no AAD). */
  sealTo(nonce: Uint8Array, src: Uint8Array, srcOff: number, n: number, dst: Uint8Array, dstOff: number): void;
  /**
   * Decrypt src[off, off+n) (tag at src[off+n, off+n+16)) into dst[dstOff, dstOff+n), in place
   * when those are the same bytes. False if the tag does not verify: the bytes it decrypted into
   * are then zeroed.
   */
  open(nonce: Uint8Array, src: Uint8Array, off: number, n: number, dst: Uint8Array, dstOff: number, aad?: Uint8Array): boolean;
}

export interface AesGcmConstructor {
  /** A copy of `key` (16 or 32 bytes) is kept, and cleansed when the object is collected. */
  new (key: Uint8Array): AesGcm;
}

export interface NativeBinding {
  ReadyHandle: ReadyHandleConstructor;
  AesGcm: AesGcmConstructor;
  /** AF_UNIX SOCK_STREAM pair, both CLOEXEC and non-blocking. Throws a system Error on failure. */
  socketpair(): [number, number];
  /** fcntl(F_DUPFD_CLOEXEC): the new fd or -errno. */
  dup(fd: number): number;
  /** close(2): 0 or -errno. For tests and for fds no ReadyHandle owns. */
  closeFd(fd: number): number;
  stats(): NativeStats;
  /** SO_RCVBUF / SO_SNDBUF (0 leaves one unchanged): 0 or -errno. */
  setSocketBuffers(fd: number, rcvbuf: number, sndbuf: number): number;
}

const FIX = 'run `npm rebuild alts-record` (needs python3, make, a C++ compiler and Node\'s headers)';

/** The package root: this file is src/native.ts or dist/native.js, one level below it. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Where the addon is looked for, in order. `ALTS_NATIVE_ADDON=<file.node>` (relative to the
 * working directory) replaces the list with that one file, with no fallback: a run against a
 * variant build (ASan, coverage: scripts/native-asan.mjs, native-coverage.mjs) must fail rather
 * than quietly test build/Release.
 */
export function nativePaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const override = env.ALTS_NATIVE_ADDON;
  if (override) return [resolve(override)];
  return [`${ROOT}build/Release/alts_native.node`, `${ROOT}build/Debug/alts_native.node`];
}

/** @internal Loads from `paths` (the first that loads wins); throws one Error naming every path tried. */
export function loadNativeFrom(paths: readonly string[]): NativeBinding {
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  let cause: unknown;
  for (const p of paths) {
    try {
      const mod = require(p) as Partial<NativeBinding>;
      if (typeof mod.ReadyHandle !== 'function' || typeof mod.socketpair !== 'function') {
        throw new TypeError(`${p} is not the alts_native addon (no ReadyHandle export)`);
      }
      return mod as NativeBinding;
    } catch (e) {
      // Prefer a real failure (wrong ABI, missing symbol) over "not found" as the cause.
      if (cause === undefined || (notFound(cause) && !notFound(e))) cause = e;
      failures.push(`  ${p}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  return failLoad(failures, cause);
}

function notFound(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === 'MODULE_NOT_FOUND';
}

function failLoad(failures: string[], cause: unknown): never {
  throw new Error(
    `alts-record: the native addon (alts_native.node) could not be loaded. Tried:\n${failures.join('\n')}\n` +
      `To fix it, ${FIX}.`,
    { cause },
  );
}

let cached: { binding: NativeBinding | null; error: Error | null } | undefined;

/** A load that failed for lack of file descriptors (dlopen: EMFILE/ENFILE) may work later. */
function outOfFds(e: unknown): boolean {
  return /Too many open files|EMFILE|ENFILE/.test(String((e as Error | null)?.message ?? '') + String((e as Error | null)?.cause ?? ''));
}

function attempt(): { binding: NativeBinding | null; error: Error | null } {
  if (cached !== undefined) return cached;
  try {
    cached = { binding: loadNativeFrom(nativePaths()), error: null };
  } catch (e) {
    const r = { binding: null, error: e as Error };
    // Cached for good, except a process briefly out of fds: that must not cost the native reader for ever.
    if (!outOfFds(e)) cached = r;
    return r;
  }
  return cached;
}

/** The addon, or a thrown Error listing every path tried, the cause and the fix. Cached. */
export function loadNative(): NativeBinding {
  const r = attempt();
  if (r.binding === null) throw r.error!;
  return r.binding;
}

/**
 * The addon for what asked for it (`needs`: `"reader" 'native'`, or wrapFd): without it a
 * RangeError naming that, the fix and the alternative (`instead`), with the load error as its cause.
 */
export function requireNative(needs: string, instead: string): NativeBinding {
  const r = attempt();
  if (r.binding !== null) return r.binding;
  throw new RangeError(`${needs} needs the alts_native addon, which did not load (${reason(r.error)}): ${FIX} (or ${instead})`, {
    cause: r.error,
  });
}

/** The load error in a few words: "not built" when no file was there, else the first line of the cause. */
function reason(e: Error | null): string {
  const cause = e?.cause;
  if (cause === undefined || notFound(cause)) return 'not built';
  return (cause instanceof Error ? cause.message : String(cause)).split('\n')[0]!;
}

let warned = false;

/**
 * Called when a connection that did not choose a reader gets the stream reader because the addon
 * did not load: the first time in this process, one warning (code ALTS_NATIVE_FALLBACK) that
 * names the cost and the fix.
 */
export function warnNativeFallback(): void {
  if (warned) return;
  warned = true;
  process.emitWarning(
    `alts-record: native addon not loaded (${reason(attempt().error)}); using the stream reader: ` +
      `Node's stream buffers hold memory while connections wait. To fix it, ${FIX}.`,
    { code: 'ALTS_NATIVE_FALLBACK' },
  );
}

/** The addon, or null when it cannot be loaded (see `nativeLoadError()`). Cached. */
export function tryLoadNative(): NativeBinding | null {
  return attempt().binding;
}

/** Why the addon could not be loaded (attempting the load if not yet tried), or null if it loaded. */
export function nativeLoadError(): Error | null {
  return attempt().error;
}

const ERRNO_NAMES = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!ERRNO_NAMES.has(value)) ERRNO_NAMES.set(value, name); // EAGAIN before EWOULDBLOCK
}

/** 'EAGAIN' for -11 (or 11); `E<n>` for a number this platform has no name for. */
export function errnoName(negErrno: number): string {
  const n = Math.abs(negErrno);
  return ERRNO_NAMES.get(n) ?? `E${n}`;
}
