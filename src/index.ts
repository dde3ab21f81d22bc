/**
 * alts-record: the gRPC ALTS record protocol. Public entry point.
 * @module
 */
export { createProtector, type Protector, type RecordOptions, type UnprotectResult } from './protector.js';
export { AltsError, isAltsError, type AltsErrorCode, type AltsFault } from './errors.js';
export * from './crypto/types.js';
export * from './record/constants.js';
export { availableBackends, createCrypters, defaultBackend, registerBackend, type BackendFactory, type CrypterOptions } from './crypto/index.js';
export { frameBytesAt, openFrame, sealedSize, sealFrames, sealFramesInto } from './record/frame.js';
export { connect, createServer, wrap, wrapFd, defaultPool, defaultReader } from './api.js';
export type { AltsServer, ConnHandler, ConnOptions, ConnectOptions, KeyFunction, KeyInfo, MultiConnOptions } from './api.js';
export type { AltsContext } from './handshake/handshake.js';
export { HandshakeError, isHandshakeError, type HandshakeFailure } from './handshake/errors.js';
export type { HandshakerOptions } from './handshake/options.js';
export { startFakeHandshaker, type FakeHandshaker } from './handshake/fake/server.js';
export { AltsConn, type ConnState, type ConnStats } from './conn/AltsConn.js';
export { BufferPool, type BufferPoolOptions, type BufferPoolStats } from './pool/BufferPool.js';
export { classSize } from './pool/sizeClass.js';
export { tryLoadNative, nativeLoadError } from './native.js';
