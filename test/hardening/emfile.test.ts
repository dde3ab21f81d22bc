/**
 * Accept failing for lack of fds: the ALTS server (the built package) runs in
 * a child process with a 64-fd limit and is driven out of fds, first so that accept(2) itself
 * fails, then so that accept succeeds but the takeover's dup() fails. The server must survive
 * both, leak nothing (fds, handles, pool), settle every connection, and serve again once fds are
 * free.
 *
 * What the user sees (createServer in src/api.ts): an accept that fails with
 * EMFILE is handled inside libuv (it accepts and closes the pending connection with a reserve fd:
 * the client sees the connection close, the server reports nothing); a failed dup() is reported
 * on the server's 'error' event and the connection is closed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dropped, echo, FD_LIMIT, killServers, startServer, type Report } from './serverChild.js';

afterEach(killServers);

describe('a server out of fds', () => {
  it('survives EMFILE on accept and on the takeover dup, leaks nothing, and serves again once fds are free', async () => {
    const child = startServer();
    const ready = await child.next<{ port: number; fds: number; soft: number; hard: number }>('ready');
    console.log(`server child: fd limits soft=${ready.soft} hard=${ready.hard}, ${ready.fds} fds open at start`);
    expect(ready.soft).toBe(FD_LIMIT);
    await echo(ready.port, 1); // the first connection also loads the addon (see the report: loading it under EMFILE)
    const before = await child.ask<Report>('report', 'report');
    expect(before).toMatchObject({ served: 1, conns: 0, errors: [], readers: ['native'], handles: 0 });

    // 1. Not one fd left: accept(2) fails with EMFILE. libuv accepts and closes the connection with its reserve fd.
    await child.ask('fill', 'filled');
    await dropped(ready.port);
    const afterAccept = await child.ask<Report>('report', 'report');
    expect(afterAccept).toMatchObject({ conns: 0, errors: [], fds: before.fds, handles: 0 });
    expect(afterAccept.pool).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });

    // 2. One fd left: accept takes it, the takeover's dup() fails with EMFILE; reported on 'error', the socket closed.
    await child.ask('free 1', 'freed');
    await dropped(ready.port);
    const afterDup = await child.ask<Report>('report', 'report');
    expect(afterDup.errors).toHaveLength(1);
    expect(afterDup.errors[0]).toMatchObject({ where: 'server' });
    expect(afterDup).toMatchObject({ conns: 0, fds: before.fds, handles: 0, served: 1 });
    expect(afterDup.pool).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });

    // 3. fds free again: the same server serves, with the native reader.
    await child.ask('free all', 'freed');
    await echo(ready.port, 2);
    const after = await child.ask<Report>('report', 'report');
    expect(after).toMatchObject({ served: 2, conns: 0, readers: ['native', 'native'], fds: before.fds, handles: 0 });
    expect(after.pool).toMatchObject({ outstanding: 0, lent: 0, waiters: 0 });
    child.send("exit");
    expect(await child.exited).toBe(0);
  });
});

describe('a failed takeover is typed and never fatal', () => {
  // the takeover's dup() failing is AltsError IO_ERROR with errno EMFILE on 'error'.
  it("createServer: a dup() failing with EMFILE is reported as AltsError IO_ERROR errno EMFILE", async () => {
    const child = startServer();
    const { port } = await child.next<{ port: number }>('ready');
    await echo(port, 1);
    await child.ask('fill', 'filled');
    await child.ask('free 1', 'freed');
    await dropped(port);
    const r = await child.ask<Report>('report', 'report');
    child.send('exit');
    expect(r.errors).toEqual([{ where: 'server', name: 'AltsError', code: 'IO_ERROR', errno: 'EMFILE' }]);
  });

  // without an 'error' listener it is a process warning: the server lives on and serves again.
  it('createServer without an error listener: a dup() failing with EMFILE does not kill the server', async () => {
    const child = startServer(['--no-error-listener']);
    const { port } = await child.next<{ port: number }>('ready');
    await echo(port, 1);
    await child.ask('fill', 'filled');
    await child.ask('free 1', 'freed');
    await dropped(port);
    await child.ask('free all', 'freed');
    await echo(port, 2);
    child.send('exit');
    expect(await child.exited).toBe(0);
  });
});
