/**
 * createServer's connection handler may return a promise. When it rejects or throws, that
 * connection is closed and the failure reported once (the server's 'error' event, or a process
 * warning when nobody listens), and the server keeps serving. The handler here is the plain echo
 * loop with no error handling, and the bad client is a non-ALTS one (an HTTP request) on a real
 * socket: its first bytes claim a ~540 MB frame, so the handler's read rejects.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, createServer, type ConnHandler } from '../../src/api.js';
import type { AltsConn } from '../../src/conn/AltsConn.js';
import { isAltsError } from '../../src/errors.js';

const protocol = 'ALTSRP_GCM_AES128_REKEY' as const;
const key = new Uint8Array(randomBytes(44));

/** The echo loop with no try/catch: a read that rejects rejects the handler's promise. */
const echo: ConnHandler = async (conn) => {
  const into = new Uint8Array(64 * 1024);
  for (let n; (n = await conn.read(into)) > 0; ) await conn.write(into.subarray(0, n));
  await conn.end();
  conn.close();
};

let unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => void unhandled.push(e);
let warnings: Error[] = [];
const onWarning = (w: Error): void => void warnings.push(w);
beforeEach(() => {
  unhandled = [];
  warnings = [];
  process.on('unhandledRejection', onUnhandled);
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  process.off('warning', onWarning);
});

/** A non-ALTS client: sends an HTTP request and resolves when the server has closed the connection. */
async function httpClient(port: number): Promise<void> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  s.resume();
  await once(s, 'connect');
  s.write('GET / HTTP/1.1\r\n\r\n');
  await new Promise<void>((resolve) => s.once('close', () => resolve()));
}

async function altsEcho(port: number, text: string): Promise<string> {
  const c = await connect({ protocol, side: 'client', key, host: '127.0.0.1', port });
  try {
    await c.write(new TextEncoder().encode(text));
    await c.end();
    const got = new Uint8Array(1024);
    let n = 0;
    for (let k; (k = await c.read(got.subarray(n))) > 0; ) n += k;
    return new TextDecoder().decode(got.subarray(0, n));
  } finally {
    c.close();
  }
}

/**
 * How an ALTS client's first read ends: 'eof' or the error's code. The reset may beat the
 * client's own connect, which then fails with it.
 */
async function clientEnd(port: number): Promise<string> {
  try {
    const c = await connect({ protocol, side: 'client', key, host: '127.0.0.1', port });
    try {
      return (await c.read(new Uint8Array(16))) === 0 ? 'eof' : 'data';
    } finally {
      c.close();
    }
  } catch (e) {
    return isAltsError(e) ? e.code : String(e);
  }
}

/** Lets every pending promise job and nextTick (warnings are emitted on one) run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

async function serve(handler: ConnHandler, onError?: (e: Error) => void) {
  // unsafeSharedKey: this checks the record layer alone, so every connection shares one fixed key (nonces repeat across connections: loopback tests only).
  const server = createServer({ protocol, side: 'server', key, unsafeSharedKey: true }, handler);
  if (onError) server.on('error', onError);
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, port };
}

describe('a connection handler that rejects or throws', () => {
  it("rejecting (a non-ALTS client): that connection is closed, reported once on 'error', and the server serves the next client", async () => {
    const errors: Error[] = [];
    const { server, port } = await serve(echo, (e) => errors.push(e));
    await httpClient(port);
    await settle();
    expect(errors).toHaveLength(1);
    expect(isAltsError(errors[0]) && errors[0].code).toBe('FRAME_TOO_LARGE');
    expect(server.connections.size).toBe(0);
    expect(await altsEcho(port, 'after the bad one')).toBe('after the bad one');
    await httpClient(port);
    await settle();
    expect(errors).toHaveLength(2);
    expect(await altsEcho(port, 'and again')).toBe('and again');
    await server.close();
    expect(unhandled).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("with no 'error' listener: one process warning per failure, no unhandled rejection, and the server keeps serving", async () => {
    const { server, port } = await serve(echo);
    await httpClient(port);
    await httpClient(port);
    await settle();
    expect(warnings).toHaveLength(2);
    expect(warnings.every((w) => isAltsError(w) && w.code === 'FRAME_TOO_LARGE')).toBe(true);
    expect(await altsEcho(port, 'still serving')).toBe('still serving');
    await server.close();
    expect(unhandled).toEqual([]);
  });

  it('throwing synchronously: that connection is closed and the throw reported', async () => {
    const errors: Error[] = [];
    let seen: AltsConn | undefined;
    const { server, port } = await serve((conn) => {
      seen = conn;
      throw new Error('handler bug');
    }, (e) => errors.push(e));
    // The server resets its end (a failure, docs/spec.md §10): the client never reads a clean EOF.
    expect(await clientEnd(port)).toBe('IO_ERROR');
    expect(errors.map((e) => e.message)).toEqual(['handler bug']);
    expect(seen?.state).toBe('closed');
    await server.close();
    expect(unhandled).toEqual([]);
  });

  it('rejecting with something that is not an Error: reported as an Error that keeps it as the cause', async () => {
    const errors: Error[] = [];
    const { server, port } = await serve(() => Promise.reject('a string'), (e) => errors.push(e));
    expect(await clientEnd(port)).toBe('IO_ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(Error);
    expect(errors[0]!.cause).toBe('a string');
    await server.close();
  });

  it('closing the server while handlers wait in read reports nothing: CLOSED then is the close, not a fault', async () => {
    const errors: Error[] = [];
    let accepted!: () => void;
    const waiting = new Promise<void>((r) => (accepted = r));
    const { server, port } = await serve(async (conn) => {
      accepted();
      await echo(conn);
    }, (e) => errors.push(e));
    const c = await connect({ protocol, side: 'client', key, host: '127.0.0.1', port });
    await waiting;
    await server.close();
    await settle();
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    c.close();
  });
});
