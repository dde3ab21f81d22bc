/** Shared helpers for the native tests: real sockets, waits on events only (no sleeps). */
import { setImmediate as immediate } from 'node:timers/promises';
import { EAGAIN, loadNative, type NativeBinding, type ReadyHandle } from '../../src/native.js';

export const native: NativeBinding = loadNative();

export interface Ready {
  status: number;
  events: number;
}

/** A ReadyHandle whose readiness can be awaited once at a time (it stops watching on each event). */
export class Watched {
  readonly handle: ReadyHandle;
  calls = 0;
  #next: ((r: Ready) => void) | null = null;

  static readonly open = new Set<Watched>();

  constructor(fd: number) {
    Watched.open.add(this);
    this.handle = new native.ReadyHandle(fd, (status, events) => {
      this.calls++;
      const next = this.#next;
      this.#next = null;
      if (next) {
        this.handle.watch(false, false);
        next({ status, events });
      }
    });
  }

  /** Watch, and resolve on the next readiness (then stop watching: level-triggered). */
  ready(readable: boolean, writable: boolean): Promise<Ready> {
    return new Promise((resolve) => {
      this.#next = resolve;
      this.handle.watch(readable, writable);
    });
  }

  /** Reads until `n` bytes arrived (waiting on readiness between reads) or EOF. */
  async readExactly(n: number, chunk = 4096): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = this.handle.read(out, got, Math.min(chunk, n - got));
      if (r > 0) got += r;
      else if (r === 0) throw new Error(`EOF after ${got} of ${n} bytes`);
      else if (r === -EAGAIN) await this.ready(true, false);
      else throw new Error(`read failed: ${r}`);
    }
    return out;
  }

  /** Writes all of `data`, waiting for writability whenever the socket buffer is full. */
  async writeAll(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const r = this.handle.write(data, off, data.length - off);
      if (r > 0) off += r;
      else if (r === -EAGAIN) await this.ready(false, true);
      else throw new Error(`write failed: ${r}`);
    }
  }
}

/** Resolves after the current loop iteration's close callbacks (uv_close) have run. */
/** For afterEach: closes every Watched handle a test left open, and waits for the close callbacks. */
export async function closeAllWatched(): Promise<void> {
  for (const w of Watched.open) w.handle.close();
  Watched.open.clear();
  await afterCloseCallbacks();
}

export async function afterCloseCallbacks(): Promise<void> {
  await immediate();
  await immediate();
}

export function pattern(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}
