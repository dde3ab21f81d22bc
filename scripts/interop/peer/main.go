// altsrecordpeer: grpc-go's own ALTS handshaker client (credentials/alts/internal/handshaker)
// and record layer (internal/conn), run off Google Cloud against any handshaker service, for
// alts-record's interop run (docs/handshake.md §9). It lives inside credentials/alts/ so that it
// may import those internal packages; scripts/interop/build.mjs puts it there.
//
//	-mode pair                 a Go client and a Go server in this process, over loopback TCP
//	-mode server -listen ADDR  prints {"listening":"HOST:PORT"}, serves one connection
//	-mode client -connect ADDR handshakes with ADDR as the client
//	-mode bench-sink|bench-source -mib N   the throughput bench's ends (bench.go)
//	-mode fake-service         a second fake handshaker service (fakeservice.go): prints
//	                           {"address":"HOST:PORT"}, serves until killed
//
// Each connection: the client writes "ping from go client", the server answers "pong: " + what
// it read; then the client sends bulkBytes of a fixed pattern, which the server checks and sends
// back, and the client checks (many frames each way). Each side prints one JSON line with what
// the handshake negotiated, what it read, and whether the bulk bytes came through intact.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/alts/internal/handshaker"
	altspb "google.golang.org/grpc/credentials/alts/internal/proto/grpc_gcp"
)

// The accessors grpc-go's alts.AuthInfo has (declared here so the peer does not import package
// alts, whose init probes for Google Cloud).
type altsInfo interface {
	ApplicationProtocol() string
	RecordProtocol() string
	SecurityLevel() altspb.SecurityLevel
	PeerServiceAccount() string
	LocalServiceAccount() string
	PeerRPCVersions() *altspb.RpcProtocolVersions
}

// What grpc-go's alts.go sends: RPC versions 2.1..2.1.
var rpcVersions = &altspb.RpcProtocolVersions{
	MaxRpcVersion: &altspb.RpcProtocolVersions_Version{Major: 2, Minor: 1},
	MinRpcVersion: &altspb.RpcProtocolVersions_Version{Major: 2, Minor: 1},
}

// bulkBytes of pattern(i) = i*7 mod 251: many 4 KiB frames from grpc-go, many larger ones to it.
const bulkBytes = 256 * 1024

func pattern() []byte {
	b := make([]byte, bulkBytes)
	for i := range b {
		b[i] = byte(i * 7 % 251)
	}
	return b
}

// bulk reads bulkBytes and reports whether they are the pattern.
func bulk(c net.Conn) bool {
	got := make([]byte, bulkBytes)
	if _, err := io.ReadFull(c, got); err != nil {
		fail("bulk read: %v", err)
	}
	want := pattern()
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

type report struct {
	Side                string `json:"side"`
	ApplicationProtocol string `json:"applicationProtocol"`
	RecordProtocol      string `json:"recordProtocol"`
	SecurityLevel       string `json:"securityLevel"`
	PeerServiceAccount  string `json:"peerServiceAccount"`
	LocalServiceAccount string `json:"localServiceAccount"`
	PeerRPCMax          string `json:"peerRpcMax"`
	Read                string `json:"read"`
	BulkIntact          bool   `json:"bulkIntact"`
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "altsrecordpeer: "+format+"\n", a...)
	os.Exit(1)
}

func emit(v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		fail("%v", err)
	}
	fmt.Println(string(b))
}

func describe(side string, info credentials.AuthInfo, read string, intact bool) report {
	a, ok := info.(altsInfo)
	if !ok {
		fail("%s: auth info is %T, not ALTS", side, info)
	}
	v := a.PeerRPCVersions().GetMaxRpcVersion()
	return report{side, a.ApplicationProtocol(), a.RecordProtocol(), a.SecurityLevel().String(), a.PeerServiceAccount(), a.LocalServiceAccount(), fmt.Sprintf("%d.%d", v.GetMajor(), v.GetMinor()), read, intact}
}

func dialService(addr string) *grpc.ClientConn {
	cc, err := grpc.Dial(addr, grpc.WithInsecure())
	if err != nil {
		fail("dial handshaker %s: %v", addr, err)
	}
	return cc
}

// clientHandshake runs grpc-go's client handshaker on raw; the record conn and what it negotiated.
func clientHandshake(ctx context.Context, hs *grpc.ClientConn, raw net.Conn, targets []string) (net.Conn, credentials.AuthInfo) {
	opts := handshaker.DefaultClientHandshakerOptions()
	opts.TargetServiceAccounts = targets
	opts.RPCVersions = rpcVersions
	h, err := handshaker.NewClientHandshaker(ctx, hs, raw, opts)
	if err != nil {
		fail("client handshaker: %v", err)
	}
	defer h.Close()
	conn, info, err := h.ClientHandshake(ctx)
	if err != nil {
		fail("client handshake: %v", err)
	}
	return conn, info
}

// serverHandshake runs grpc-go's server handshaker on raw; the record conn and what it negotiated.
func serverHandshake(ctx context.Context, hs *grpc.ClientConn, raw net.Conn) (net.Conn, credentials.AuthInfo) {
	opts := handshaker.DefaultServerHandshakerOptions()
	opts.RPCVersions = rpcVersions
	h, err := handshaker.NewServerHandshaker(ctx, hs, raw, opts)
	if err != nil {
		fail("server handshaker: %v", err)
	}
	defer h.Close()
	conn, info, err := h.ServerHandshake(ctx)
	if err != nil {
		fail("server handshake: %v", err)
	}
	return conn, info
}

func client(ctx context.Context, hs *grpc.ClientConn, raw net.Conn, targets []string) report {
	conn, info := clientHandshake(ctx, hs, raw, targets)
	defer conn.Close()
	if _, err := conn.Write([]byte("ping from go client")); err != nil {
		fail("client write: %v", err)
	}
	buf := make([]byte, 1024)
	n, err := conn.Read(buf)
	if err != nil {
		fail("client read: %v", err)
	}
	if _, err := conn.Write(pattern()); err != nil {
		fail("client bulk write: %v", err)
	}
	intact := bulk(conn)
	return describe("client", info, string(buf[:n]), intact)
}

func server(ctx context.Context, hs *grpc.ClientConn, raw net.Conn) report {
	conn, info := serverHandshake(ctx, hs, raw)
	defer conn.Close()
	buf := make([]byte, 1024)
	n, err := conn.Read(buf)
	if err != nil {
		fail("server read: %v", err)
	}
	if _, err := conn.Write(append([]byte("pong: "), buf[:n]...)); err != nil {
		fail("server write: %v", err)
	}
	intact := bulk(conn)
	if _, err := conn.Write(pattern()); err != nil {
		fail("server bulk write: %v", err)
	}
	return describe("server", info, string(buf[:n]), intact)
}

func main() {
	mode := flag.String("mode", "pair", "pair | client | server | grpc-client | grpc-server | bench-sink | bench-source | fake-service")
	hsAddr := flag.String("handshaker", "", "handshaker service HOST:PORT")
	listen := flag.String("listen", "127.0.0.1:0", "server: address to listen on")
	connect := flag.String("connect", "", "client: address to connect to")
	target := flag.String("target", "", "client: a target service account (optional)")
	mib := flag.Int64("mib", 0, "bench-sink, bench-source: MiB to move")
	flag.Parse()
	if *mode == "fake-service" {
		serveFakeService()
		return
	}
	if *hsAddr == "" {
		fail("-handshaker HOST:PORT is required")
	}
	var targets []string
	if *target != "" {
		targets = []string{*target}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hs := dialService(*hsAddr)
	defer hs.Close()

	switch *mode {
	case "bench-sink", "bench-source":
		bench(ctx, hs, *mode == "bench-sink", *listen, *connect, targets, *mib)
	case "grpc-client":
		emit(grpcClient(ctx, hs, *connect, targets))
	case "grpc-server":
		grpcServer(hs, *listen)
	case "client":
		raw, err := net.Dial("tcp", *connect)
		if err != nil {
			fail("connect %s: %v", *connect, err)
		}
		emit(client(ctx, hs, raw, targets))
	case "server", "pair":
		l, err := net.Listen("tcp", *listen)
		if err != nil {
			fail("listen %s: %v", *listen, err)
		}
		if *mode == "server" {
			emit(map[string]string{"listening": l.Addr().String()})
			raw, err := l.Accept()
			if err != nil {
				fail("accept: %v", err)
			}
			l.Close()
			emit(server(ctx, hs, raw))
			return
		}
		done := make(chan report)
		go func() {
			raw, err := l.Accept()
			if err != nil {
				fail("accept: %v", err)
			}
			done <- server(ctx, hs, raw)
		}()
		raw, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			fail("connect: %v", err)
		}
		c := client(ctx, hs, raw, targets)
		emit(c)
		emit(<-done)
	default:
		fail("unknown -mode %q", *mode)
	}
}
