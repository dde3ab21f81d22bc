/** A handshaker service that misbehaves as told: a grpc-js DoHandshake server over a handler. */
import * as grpc from '@grpc/grpc-js';
import { decodeHandshakerReq, encodeHandshakerResp, type HandshakerReq, type HandshakerResp } from '../../src/handshake/messages.js';
import { DO_HANDSHAKE } from '../../src/handshake/service.js';

export interface HostileCall {
  reply(r: HandshakerResp): void;
  /** Bytes that are not a HandshakerResp. */
  replyRaw(b: Uint8Array): void;
  end(): void;
  fail(code: grpc.status, details: string): void;
}

export async function hostileService(onRequest: (req: HandshakerReq, call: HostileCall, n: number) => void): Promise<{ address: string; close(): void }> {
  const server = new grpc.Server();
  server.addService(
    {
      DoHandshake: {
        path: DO_HANDSHAKE,
        requestStream: true,
        responseStream: true,
        requestDeserialize: (b: Buffer) => decodeHandshakerReq(b),
        requestSerialize: () => Buffer.alloc(0),
        responseSerialize: (b: Uint8Array) => Buffer.from(b),
        responseDeserialize: (b: Buffer) => b,
      },
    } as grpc.ServiceDefinition,
    {
      DoHandshake: (call: grpc.ServerDuplexStream<HandshakerReq, Uint8Array>) => {
        let n = 0;
        const h: HostileCall = {
          reply: (r) => call.write(encodeHandshakerResp(r)),
          replyRaw: (b) => call.write(b),
          end: () => call.end(),
          fail: (code, details) => call.emit('error', { code, details }),
        };
        call.on('data', (req: HandshakerReq) => onRequest(req, h, n++));
        call.on('error', () => {});
      },
    } as grpc.UntypedServiceImplementation,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
}
