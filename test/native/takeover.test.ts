/** Taking loopback TCP sockets over from Node: no byte lost to Node, no EEXIST from uv_poll_init. */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ECONNRESET, EAGAIN, UV_READABLE } from '../../src/native.js';
import { takeOverSocket } from '../../src/native-takeover.js';
import { afterCloseCallbacks, closeAllWatched, native, pattern, Watched } from './helpers.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const servers: net.Server[] = [];

afterEach(async () => {
  await closeAllWatched();
  for (const s of servers.splice(0)) s.close();
});

async function listen(opts: net.ServerOpts, onConn: (s: net.Socket) => void): Promise<number> {
  const srv = net.createServer(opts, onConn);
  servers.push(srv);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return (srv.address() as net.AddressInfo).port;
}

/** Reads from a net.Socket until `n` bytes arrived (leaving the socket open). */
function collect(sock: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const onData = (chunk: Buffer) => {
      parts.push(chunk);
      got += chunk.length;
      if (got < n) return;
      sock.off('data', onData).off('error', reject).pause();
      resolve(Buffer.concat(parts));
    };
    sock.on('data', onData).on('error', reject).resume();
  });
}

describe('server side: accepted with pauseOnConnect', () => {
  it('reads what the client sent (even before the takeover) and the client gets the reply', async () => {
    const data = pattern(1 << 20, 11); // more than the socket buffers hold
    let accept!: (s: net.Socket) => void;
    const accepted = new Promise<net.Socket>((r) => (accept = r));
    const port = await listen({ pauseOnConnect: true }, (s) => accept(s));
    const client = net.connect(port, '127.0.0.1');
    await once(client, 'connect');
    // The first 1000 bytes are in the server's receive queue before the takeover.
    await new Promise<void>((r, j) => client.write(data.subarray(0, 1000), (e) => (e ? j(e) : r())));
    const sock = await accepted;
    expect(sock.bytesRead).toBe(0);
    const h = new Watched(takeOverSocket(sock)); // uv_poll_init on the dup: no EEXIST
    expect(sock.destroyed).toBe(true);
    client.write(data.subarray(1000));
    const got = await h.readExactly(data.length, 65536);
    expect(Buffer.compare(got, data)).toBe(0);
    const replied = collect(client, 5);
    await h.writeAll(enc('reply'));
    expect(dec(await replied)).toBe('reply');
    // EOF from the client arrives through the handle too.
    client.end();
    await h.ready(true, false);
    expect(h.handle.read(new Uint8Array(8), 0, 8)).toBe(0);
    h.handle.close();
    await once(client, 'close');
  });

  it('a peer reset is reported: onReady status -ECONNRESET or a read of -ECONNRESET', async () => {
    let accepted!: (fd: number) => void;
    const fdP = new Promise<number>((r) => (accepted = r));
    const port = await listen({ pauseOnConnect: true }, (sock) => accepted(takeOverSocket(sock)));
    const client = net.connect(port, '127.0.0.1');
    await once(client, 'connect');
    const h = new Watched(await fdP);
    client.resetAndDestroy();
    const r = await h.ready(true, false);
    if (r.status < 0) {
      expect(r.status).toBe(-ECONNRESET);
    } else {
      expect(r.events & UV_READABLE).toBe(UV_READABLE);
      expect(h.handle.read(new Uint8Array(8), 0, 8)).toBe(-ECONNRESET);
    }
  });
});

describe('client side', () => {
  it('net.connect + pause() before connect: Node never reads; the greeting sent at once arrives through the handle', async () => {
    const greeting = pattern(300_000, 5);
    let serverSock!: net.Socket;
    const port = await listen({}, (s) => {
      serverSock = s;
      s.write(greeting);
    });
    const client = net.connect(port, '127.0.0.1');
    client.pause(); // synchronously, before 'connect'
    await once(client, 'connect');
    const handle = (client as unknown as { _handle: { reading: boolean } })._handle;
    expect(handle.reading).toBe(false);
    const h = new Watched(takeOverSocket(client));
    const got = await h.readExactly(greeting.length, 8192);
    expect(Buffer.compare(got, greeting)).toBe(0);
    expect(client.bytesRead).toBe(0);
    const echoed = collect(serverSock, 4);
    expect(h.handle.write(enc('pong'), 0, 4)).toBe(4);
    expect(dec(await echoed)).toBe('pong');
  });

  it("a client left flowing, taken over in its 'connect' listener: Node has read nothing, every byte arrives through the handle", async () => {
    const greeting = pattern(200_000, 6);
    const port = await listen({}, (s) => s.end(greeting));
    const client = net.connect(port, '127.0.0.1');
    await once(client, 'connect');
    const handle = (client as unknown as { _handle: { reading: boolean } })._handle;
    expect(handle.reading).toBe(true); // Node started reading at 'connect'; it reads in a later turn
    const h = new Watched(takeOverSocket(client));
    expect(client.destroyed).toBe(true);
    expect(client.bytesRead).toBe(0);
    const got = await h.readExactly(greeting.length, 8192);
    expect(Buffer.compare(got, greeting)).toBe(0);
  });

  it('a client Node has read from is refused and left alone', async () => {
    const port = await listen({}, (s) => s.write('hi'));
    const client = net.connect(port, '127.0.0.1');
    expect(String(await collect(client, 2))).toBe('hi'); // Node read these
    expect(() => takeOverSocket(client)).toThrow(RangeError);
    expect(() => takeOverSocket(client)).toThrow(/^"socket" has been read from by Node.*pause\(\).*reader: 'stream'/);
    expect(client.destroyed).toBe(false);
    client.destroy();
  });

  it('a socket still connecting is refused', async () => {
    const port = await listen({}, () => {});
    const client = net.connect(port, '127.0.0.1');
    client.pause();
    expect(() => takeOverSocket(client)).toThrow(RangeError);
    expect(() => takeOverSocket(client)).toThrow(/^"socket" is still connecting.*reader: 'stream'/);
    await once(client, 'connect');
    client.destroy();
  });

  it('uv_poll_init on the fd of a socket Node is reading fails with EEXIST and leaves the fd to Node', async () => {
    const port = await listen({}, (s) => s.end('still mine'));
    const client = net.connect(port, '127.0.0.1');
    await once(client, 'connect');
    const fd = (client as unknown as { _handle: { fd: number } })._handle.fd;
    const s0 = native.stats();
    expect(() => new native.ReadyHandle(fd, () => {})).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    await afterCloseCallbacks();
    expect(native.stats().fdsClosed).toBe(s0.fdsClosed);
    expect(String(await collect(client, 10))).toBe('still mine');
  });
});

describe('takeOverSocket arguments', () => {
  it('rejects non-sockets and destroyed sockets', async () => {
    expect(() => takeOverSocket({} as net.Socket)).toThrow(TypeError);
    const s = new net.Socket();
    expect(() => takeOverSocket(s)).toThrow(RangeError);
    expect(() => takeOverSocket(s)).toThrow(/^"socket" has no fd/);
    expect(EAGAIN).toBeGreaterThan(0);
  });
});
