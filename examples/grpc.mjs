// gRPC over the ALTS record protocol: a @grpc/grpc-js server and client on loopback, each end an
// alts-record connection, each connection's key from an ALTS handshake through the fake
// handshaker service (started here; loopback only). The server injects each accepted conn into
// grpc-js (public Server#createConnectionInjector, through AltsPeers, which also gives a handler
// the caller's identity); the client's channel credentials handshake and wrap each TCP
// connection grpc-js opens (alts-record/grpc). Messages are JSON, so no .proto compiler is needed.
// Run from the package root after `npm run build`: node examples/grpc.mjs (exits 0 on success).
import * as grpc from '@grpc/grpc-js';
import { createServer, startFakeHandshaker } from 'alts-record';
import { AltsPeers, altsChannelCredentials } from 'alts-record/grpc';

const fake = await startFakeHandshaker();
const SERVER = 'greeter@example.test';
const CALLER = 'caller@example.test';

const json = { serialize: (v) => Buffer.from(JSON.stringify(v)), deserialize: (b) => JSON.parse(b.toString()) };
const method = (name, responseStream) => ({
  path: `/demo.Greeter/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
const Greeter = { greet: method('Greet', false), count: method('Count', true) };

// Server: grpc-js serves whatever Duplex it is given; alts-record accepts TCP and gives it each conn's.
const grpcServer = new grpc.Server();
const peers = new AltsPeers(grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure()));
grpcServer.addService(Greeter, {
  greet: (call, done) => done(null, { message: `hello, ${call.request.name}`, caller: peers.contextOf(call)?.peerServiceAccount }),
  count: (call) => {
    for (let i = 1; i <= call.request.to; i++) call.write({ i });
    call.end();
  },
});
const server = createServer({ handshaker: { address: fake.address, localServiceAccount: SERVER } }, (conn) => peers.inject(conn));
const { port } = await server.listen(0, '127.0.0.1');

// Client: ALTS channel credentials in place of TLS ones.
const clientConns = [];
const Client = grpc.makeGenericClientConstructor(Greeter, 'Greeter');
const client = new Client(`127.0.0.1:${port}`, altsChannelCredentials({
  handshaker: { address: fake.address, targetServiceAccounts: [SERVER], localServiceAccount: CALLER },
  onConn: (c) => clientConns.push(c),
}));

const reply = await new Promise((resolve, reject) => client.greet({ name: 'ALTS' }, (err, r) => (err ? reject(err) : resolve(r))));
const counted = [];
for await (const m of client.count({ to: 5 })) counted.push(m.i);
if (reply.message !== 'hello, ALTS' || reply.caller !== CALLER || counted.join() !== '1,2,3,4,5') throw new Error('unexpected replies');

// Clean shutdown: the channel, then the grpc server (its sessions end the conns), then the listener.
client.close();
await new Promise((resolve, reject) => grpcServer.tryShutdown((err) => (err ? reject(err) : resolve())));
await server.close();
await fake.close();
const [conn] = clientConns;
console.log(`grpc over ALTS: "${reply.message}", counted ${counted.join(' ')}; the client conn opened ${conn.stats.framesOpened} ALTS frames (${conn.reader} reader)`);
