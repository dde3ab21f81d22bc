/**
 * A bench peer's memory once it has settled: for the idle benches' per-connection figures.
 * @module
 */

export interface Settled {
  /** False when the process ran without --expose-gc (the figures then include garbage). */
  gc: boolean;
  rss: number;
  heapUsed: number;
  external: number;
}

/** Let closes finish (libuv closes handles on the next loop turn), collect twice, then measure. */
export async function settledMemory(): Promise<Settled> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 2; i++) {
    await new Promise((r) => setImmediate(r));
    gc?.();
  }
  const { rss, heapUsed, external } = process.memoryUsage();
  return { gc: gc !== undefined, rss, heapUsed, external };
}
