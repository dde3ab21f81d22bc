// gRPC over ALTS with grpc-go 1.33.3's own handshaker client and record layer: a
// TransportCredentials built from credentials/alts/internal/handshaker as alts.go builds its
// own (which refuses to run off Google Cloud), and the standard health service
// (grpc.health.v1.Health: Check is unary, Watch server-streaming) as the service both ends know.
package main

import (
	"context"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/alts/internal/handshaker"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
)

type altsCreds struct {
	hs      *grpc.ClientConn
	targets []string
}

func (c *altsCreds) ClientHandshake(ctx context.Context, _ string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	opts := handshaker.DefaultClientHandshakerOptions()
	opts.TargetServiceAccounts = c.targets
	opts.RPCVersions = rpcVersions
	h, err := handshaker.NewClientHandshaker(ctx, c.hs, raw, opts)
	if err != nil {
		return nil, nil, err
	}
	defer h.Close()
	return h.ClientHandshake(ctx)
}

func (c *altsCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	opts := handshaker.DefaultServerHandshakerOptions()
	opts.RPCVersions = rpcVersions
	h, err := handshaker.NewServerHandshaker(ctx, c.hs, raw, opts)
	if err != nil {
		return nil, nil, err
	}
	defer h.Close()
	return h.ServerHandshake(ctx)
}

func (c *altsCreds) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "alts", SecurityVersion: "1.0", ServerName: ""}
}
func (c *altsCreds) Clone() credentials.TransportCredentials { return &altsCreds{c.hs, c.targets} }
func (c *altsCreds) OverrideServerName(string) error        { return nil }

type grpcReport struct {
	Check string `json:"check"`
	Watch string `json:"watch"`
	report
}

// grpcClient: Check (unary) and the first Watch message (streaming) from the server at addr.
func grpcClient(ctx context.Context, hs *grpc.ClientConn, addr string, targets []string) grpcReport {
	cc, err := grpc.DialContext(ctx, addr, grpc.WithTransportCredentials(&altsCreds{hs, targets}), grpc.WithBlock())
	if err != nil {
		fail("grpc dial %s: %v", addr, err)
	}
	defer cc.Close()
	hc := healthpb.NewHealthClient(cc)
	var p peer.Peer
	res, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p))
	if err != nil {
		fail("grpc Check: %v", err)
	}
	w, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		fail("grpc Watch: %v", err)
	}
	first, err := w.Recv()
	if err != nil {
		fail("grpc Watch recv: %v", err)
	}
	return grpcReport{res.GetStatus().String(), first.GetStatus().String(), describe("client", p.AuthInfo, "", true)}
}

// grpcServer: serve the health service (SERVING) over ALTS; report the first caller's identity.
func grpcServer(hs *grpc.ClientConn, listen string) {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		fail("listen %s: %v", listen, err)
	}
	var once sync.Once
	seen := func(ctx context.Context) {
		once.Do(func() {
			if p, ok := peer.FromContext(ctx); ok {
				emit(grpcReport{"", "", describe("server", p.AuthInfo, "", true)})
			}
		})
	}
	s := grpc.NewServer(grpc.Creds(&altsCreds{hs: hs}),
		grpc.UnaryInterceptor(func(ctx context.Context, req interface{}, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (interface{}, error) {
			seen(ctx)
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv interface{}, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			seen(ss.Context())
			return h(srv, ss)
		}))
	hsrv := health.NewServer()
	hsrv.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s, hsrv)
	emit(map[string]string{"listening": l.Addr().String()})
	if err := s.Serve(l); err != nil {
		fail("serve: %v", err)
	}
}
