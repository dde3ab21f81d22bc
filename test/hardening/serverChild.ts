/**
 * The ALTS echo server of test/hardening/fixtures/emfile-server.mjs (the built package) in a child
 * process with a 64-fd limit, and the two kinds of client the EMFILE tests use.
 */
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { once } from 'node:events';
import { expect } from 'vitest';
import { connect } from '../../src/api.js';
import { bytes, keyFor, readExactly } from '../conn/harness.js';
import { LineChild } from './child.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/emfile-server.mjs', import.meta.url));
const PROTOCOL = 'ALTSRP_GCM_AES128_REKEY' as const;
const KEY = keyFor(PROTOCOL);
export const FD_LIMIT = 64;

export interface Report {
  errors: { where: string; name: string; code?: string; errno?: string }[];
  readers: string[];
  served: number;
  conns: number;
  pool: { outstanding: number; lent: number; waiters: number };
  handles: number | null;
  fds: number;
}

const children: LineChild[] = [];
/** Kill every server child still running (an afterEach: a failed test leaves none behind). */
export function killServers(): void {
  for (const c of children.splice(0)) c.kill();
}

export function startServer(args: string[] = []): LineChild {
  const child = new LineChild(FIXTURE, [PROTOCOL, Buffer.from(KEY).toString('hex'), ...args], FD_LIMIT);
  children.push(child);
  return child;
}

/** One echo exchange through the server, as an ALTS client (native reader). */
export async function echo(port: number, seed: number): Promise<void> {
  const conn = await connect({ protocol: PROTOCOL, side: 'client', key: KEY, host: '127.0.0.1', port });
  const msg = bytes(100_000, seed);
  const [got] = await Promise.all([readExactly(conn, msg.length), conn.write(msg).then(() => conn.end())]);
  expect(Buffer.compare(got, msg)).toBe(0);
  expect(await conn.read(new Uint8Array(1))).toBe(0);
  conn.close();
}

/** A raw TCP connection the server cannot serve: resolves once the server has closed it. */
export async function dropped(port: number): Promise<void> {
  const s = net.connect({ port, host: '127.0.0.1' });
  s.on('error', () => {}); // a reset is one way the server may drop it
  await once(s, 'close');
}
