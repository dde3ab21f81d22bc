/** A createServer handler for the API tests: keeps each conn in `conns`, echoes its first read once. */
import type { AltsConn } from '../../src/conn/AltsConn.js';

export function echoOnce(conns: AltsConn[]): (c: AltsConn) => Promise<void> {
  return async (c) => {
    conns.push(c);
    const into = new Uint8Array(64);
    const n = await c.read(into);
    await c.write(into.subarray(0, n));
  };
}
