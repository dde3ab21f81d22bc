/**
 * Running one hostile case on the real thing: an AltsConn (native reader, or
 * the stream reader over a net.Socket) on one end of an AF_UNIX socketpair, a raw peer on the
 * other writing the hostile stream chunk by chunk (waiting, on the conn's own events, until the
 * conn has read each chunk), then closing (EOF) or resetting. A caller reads throughout with
 * read() or readOnReady(). The outcome is checked against the sans-IO oracle, and afterwards
 * the conn must hold nothing, both pools be balanced, every fd and handle be closed.
 */
import { expect } from 'vitest';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { AltsError } from '../../src/errors.js';
import { BufferPool } from '../../src/pool/BufferPool.js';
import { MAX_CLASS } from '../../src/pool/sizeClass.js';
import { native } from '../../test/conn/harness.js';
import { loopTurn, openFds, pairOf, until } from '../../test/hardening/pairs.js';
import { buildStream, chunksOf, oracle, type HostileCase, type ReadStep } from './streams.js';
import { testHooks } from '../../src/conn/testHooks.js';

/** A case that takes longer than this has hung (a hang guard, not a synchronisation). */
export const CASE_TIMEOUT_MS = 20_000;

type End = { eof: true } | { eof: false; error: unknown };

/** Read until EOF or an error, cycling through `steps`; every readOnReady buffer goes back to `callerPool`. */
async function readAll(conn: AltsConn, steps: ReadStep[], callerPool: BufferPool, out: Uint8Array[]): Promise<End> {
  for (let i = 0; ; i++) {
    const s = steps[i % steps.length]!;
    try {
      if (s.onReady) {
        const got = await conn.readOnReady(s.size, callerPool);
        if (got === null) return { eof: true };
        out.push(got.buf.slice(0, got.n));
        callerPool.put(got.buf);
      } else {
        const into = new Uint8Array(s.size);
        const n = await conn.read(into);
        if (n === 0) return { eof: true };
        out.push(into.subarray(0, n));
      }
    } catch (e) {
      return { eof: false, error: e };
    }
  }
}

/** Invariants that hold after every step the conn takes (docs/spec.md §4), collected rather than thrown inside the conn's emit. */
function watchInvariants(conn: AltsConn, pool: BufferPool, budget: number): string[] {
  const bad: string[] = [];
  const check = () => {
    const held = conn.heldBytes;
    if (pool.outstanding !== held) bad.push(`pool outstanding ${pool.outstanding} != held ${held} (${conn.state})`);
    if (held > MAX_CLASS) bad.push(`held ${held} > one maximal frame`);
    // The pool may lend past its budget only when nothing else holds it, by at most one
    // maximal frame (docs/spec.md §5): this conn is the pool's only borrower.
    if (pool.outstanding > budget && pool.outstanding > MAX_CLASS) bad.push(`outstanding ${pool.outstanding} > budget ${budget} and above one maximal frame`);
    if (pool.outstanding > budget && pool.stats.overdrafts === 0) bad.push(`outstanding ${pool.outstanding} > budget ${budget} without an overdraft`);
    if (conn.state === 'closed' && held !== 0) bad.push(`closed holding ${held}`);
  };
  conn.on('state', check).on('wakeup', check).on('close', check);
  return bad;
}

/** Runs `c` and checks it; returns how it ended: 'EOF' or the error code (for the outcome tally). */
export async function runCase(c: HostileCase): Promise<string> {
  const stream = buildStream(c.protocol, c.recipe);
  const want = oracle(c.protocol, stream);
  const fds0 = openFds();
  const handles0 = native.stats().handles;
  const pool = new BufferPool(c.budget === null ? {} : { budget: c.budget });
  const callerPool = new BufferPool();
  const { conn, peer } = pairOf({ reader: c.reader, pool, protocol: c.protocol, readSize: c.readSize });
  const violations = watchInvariants(conn, pool, c.budget ?? Infinity);
  const delivered: Uint8Array[] = [];
  let outcome = '';
  let timer: NodeJS.Timeout | undefined;
  try {
    if (c.ending === 'reset') await conn.write(new Uint8Array([1])); // a frame the peer never reads
    let readerDone = false;
    const reading = readAll(conn, c.reads, callerPool, delivered).finally(() => (readerDone = true));
    const sending = (async () => {
      let sent = 0;
      for (const chunk of chunksOf(c, stream)) {
        if (!(await peer.write(chunk))) break;
        sent += chunk.length;
        // Let the conn read this chunk before the next one comes, so each split is seen as one.
        await until(conn, () => readerDone || conn.state === 'closed' || conn.stats.bytesRead >= sent);
      }
      peer.close();
    })();
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`hung: state=${conn.state} held=${conn.heldBytes} watching=${testHooks(conn).watching} starved=${testHooks(conn).starved} bytesRead=${conn.stats.bytesRead}/${stream.length}`)),
        CASE_TIMEOUT_MS,
      );
    });
    const [end] = await Promise.race([Promise.all([reading, sending]), hang]);
    clearTimeout(timer);

    const got = Buffer.concat(delivered);
    const plain = Buffer.from(want.plaintext);
    if (c.ending === 'eof') expect(got.equals(plain), `delivered ${got.length} bytes, oracle ${plain.length}`).toBe(true);
    else expect(plain.subarray(0, got.length).equals(got), `delivered ${got.length} bytes: not a prefix of the oracle's ${plain.length}`).toBe(true);
    const allowed = c.ending === 'eof' ? [want.code ?? 'EOF'] : [want.code ?? 'EOF', 'IO_ERROR'];
    outcome = end.eof ? 'EOF' : ((end.error as { code?: string }).code ?? String(end.error));
    if (end.eof) {
      expect(allowed).toContain('EOF');
      expect(await conn.read(new Uint8Array(1))).toBe(0); // clean EOF stays EOF
    } else {
      expect(end.error, 'the stream must end in a typed AltsError').toBeInstanceOf(AltsError);
      const err = end.error as AltsError;
      expect(allowed).toContain(err.code);
      expect(err.fault).toBe(err.code === 'IO_ERROR' ? 'io' : 'peer');
      if (err.code === 'IO_ERROR') expect(err.errno).toMatch(/^E[A-Z0-9]+$/);
      await expect(conn.read(new Uint8Array(1))).rejects.toBe(err); // the error sticks
    }
    // Ended on its own: nothing held, nothing lent, before any close() from us.
    expect(conn.state).toBe('closed');
    expect(conn.heldBytes).toBe(0);
    expect(pool.outstanding).toBe(0);
  } finally {
    clearTimeout(timer);
    conn.close();
    peer.close();
    // uv_close callbacks: the fds close here (also after a failure, so the next case counts from a clean slate).
    await loopTurn();
    await loopTurn();
  }
  expect(violations).toEqual([]);
  expect(pool.stats).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });
  expect(callerPool.stats).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });
  expect(native.stats().handles).toBe(handles0);
  expect(openFds()).toBe(fds0);
  return outcome;
}
