/**
 * The handshake's surface for the API layer (docs/handshake.md): resolve the `handshaker`
 * option, run a handshake over a connection's reader, build the record options from it, and the
 * fake service for tests and demos.
 * @module
 */
export { runHandshake, recordOptionsFor, type AltsContext, type HandshakeOutcome, type RunHandshakeOptions } from './handshake.js';
export { resolveHandshaker, resolveFrameSize, type HandshakerOptions, type ResolvedHandshaker } from './options.js';
export { HandshakeError, isHandshakeError, type HandshakeFailure } from './errors.js';
export { HandshakerClient, closeHandshakerClients, DEFAULT_HANDSHAKER_ADDRESS, MAX_IN_FLIGHT } from './service.js';
export { startFakeHandshaker, type FakeHandshaker, type FakeHandshakerOptions } from './fake/server.js';
export { fakeHandshakerMain } from './fake/cli.js';
