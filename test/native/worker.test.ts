/**
 * ReadyHandles in a worker thread whose environment ends with them still open. When no other
 * environment uses the addon, Node unloads it (dlclose) at the end of the worker; a uv_close
 * callback still queued then ran in unmapped code: "Segmentation fault" after `vitest --pool
 * threads`. The addon's async cleanup hook closes them while it is still loaded (native/ready_handle.h).
 * Each case runs in a child process, since the failure kills the process.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nativePaths } from '../../src/native.js';

type End = 'terminate' | 'process.exit';

/** A worker that ends (terminated, or by process.exit) with one handle watching, one idle and one closing. */
function workerScript(addon: string, mainLoadsAddon: boolean, end: End): string {
  return `
    const { Worker } = require('node:worker_threads');
    const fs = require('node:fs');
    const main = ${mainLoadsAddon} ? require(${JSON.stringify(addon)}) : null;
    const w = new Worker(\`
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(workerData);
      const pairs = [b.socketpair(), b.socketpair(), b.socketpair()];
      const watching = new b.ReadyHandle(pairs[0][0], () => {});
      watching.watch(true, false); // the peer stays open: nothing to read, the poll stays pending
      globalThis.idle = new b.ReadyHandle(pairs[1][0], () => {});
      new b.ReadyHandle(pairs[2][0], () => {}).close(); // its close callback still queued
      // Last: terminate() landing during a call into the addon is another failure (SIGABRT,
      // docs/native-safety.md), not this test's.
      parentPort.postMessage(pairs);
      if (${end === 'process.exit'}) process.exit(0);
    \`, { eval: true, workerData: ${JSON.stringify(addon)} });
    let pairs;
    w.once('message', (m) => { pairs = m; if (${end === 'terminate'}) w.terminate(); });
    w.once('exit', () => {
      const isOpen = (fd) => { try { fs.fstatSync(fd); return true; } catch { return false; } };
      const owned = pairs.map((p) => p[0]);
      const peers = pairs.map((p) => p[1]);
      console.log(JSON.stringify({ ownedOpen: owned.filter(isOpen), peersOpen: peers.filter(isOpen).length, stats: main && main.stats() }));
      for (const fd of peers) fs.closeSync(fd);
    });
  `;
}

function run(mainLoadsAddon: boolean, end: End) {
  const r = spawnSync(process.execPath, ['-e', workerScript(nativePaths()[0]!, mainLoadsAddon, end)], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, signal: r.signal, stderr: r.stderr, out: r.stdout ? JSON.parse(r.stdout.trim().split('\n').at(-1)!) : null };
}

describe('ReadyHandles open when their worker thread ends', () => {
  for (const end of ['terminate', 'process.exit'] as const) {
    it(`with the addon loaded only in the worker (${end}): no crash, and every owned fd is closed`, () => {
      const r = run(false, end);
      expect(r.signal).toBeNull();
      expect(r.status, r.stderr).toBe(0);
      expect(r.out.ownedOpen).toEqual([]);
      expect(r.out.peersOpen).toBe(3); // the fstat check itself sees open fds
    });
  }

  it('with the addon also loaded in the main thread: each fd closed exactly once, no handle left', () => {
    const r = run(true, 'terminate');
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.out.ownedOpen).toEqual([]);
    expect(r.out.stats).toMatchObject({ handles: 0, fdsClosed: 3 });
  });
});
