/**
 * Test-only access to a connection's insides: the properties and tests drive and observe the
 * read side through these (docs/spec.md §2 Watching, Starved); they are not part of AltsConn's
 * public type. A conn registers its hooks when it is built.
 * @module
 */

export interface ConnTestHooks {
  /** Run the real readable path now, as if the poller had said readable: with nothing there the real read(2) meets EAGAIN. */
  simulateWakeup(): void;
  /** Is the reader watching the socket (a read pending, nothing to hand up, not starved)? */
  readonly watching: boolean;
  /** Is the conn waiting for the pool to lend (the socket unwatched meanwhile)? */
  readonly starved: boolean;
}

const hooks = new WeakMap<object, ConnTestHooks>();

export function registerTestHooks(conn: object, h: ConnTestHooks): void {
  hooks.set(conn, h);
}

/** The hooks of `conn` (any AltsConn). */
export function testHooks(conn: object): ConnTestHooks {
  const h = hooks.get(conn);
  if (h === undefined) throw new TypeError('"conn" expected an AltsConn');
  return h;
}
