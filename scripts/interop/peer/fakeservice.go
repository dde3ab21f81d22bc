// A second fake handshaker service, independent of alts-record's (docs/handshake.md §9), built on
// grpc-go's own generated HandshakerService types. Its protocol has the shape of C-core's test
// fake: ClientInit, ServerInitAndFinished, ClientFinished. Each frame is len (u32 LE, the bytes
// after it) ‖ name ‖ body:
//
//	ClientInit            16-byte random nonce ‖ the client's service account
//	ServerInitAndFinished the server's service account
//	ClientFinished        (empty)
//
// key_data = SHA-512(keyLabel ‖ the client's nonce): fresh per connection, the same at both
// ends, and no table, since both ends' services see ClientInit. It is for tests only: anyone
// who sees the handshake bytes can compute the key.
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	altspb "google.golang.org/grpc/credentials/alts/internal/proto/grpc_gcp"
)

const (
	keyLabel       = "altsrecordpeer fake handshaker key"
	recordProtocol = "ALTSRP_GCM_AES128_REKEY"
	appProtocol    = "grpc"
	nonceLen       = 16
	maxFrame       = 1024
	defaultClient  = "go-fake-client@altsrecordpeer.invalid"
	defaultServer  = "go-fake-server@altsrecordpeer.invalid"
)

var (
	clientInit     = []byte("ClientInit")
	serverFinished = []byte("ServerInitAndFinished")
	clientFinished = []byte("ClientFinished")
)

// fakeService serves /grpc.gcp.HandshakerService/DoHandshake; one stream is one handshake side.
type fakeService struct {
	altspb.UnimplementedHandshakerServiceServer
}

// serveFakeService listens on 127.0.0.1:0, prints {"address":"HOST:PORT"}, serves until killed.
func serveFakeService() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("fake service listen: %v", err)
	}
	s := grpc.NewServer()
	altspb.RegisterHandshakerServiceServer(s, &fakeService{})
	emit(map[string]string{"address": l.Addr().String()})
	if err := s.Serve(l); err != nil {
		fail("fake service: %v", err)
	}
}

// A status error: sent as HandshakerResp.status, which ends the stream, as a real service does.
type statusErr struct {
	code    codes.Code
	details string
}

func refuse(code codes.Code, format string, a ...interface{}) *statusErr {
	return &statusErr{code, fmt.Sprintf(format, a...)}
}

// side is one stream's state: what it expects next and what it learnt from the start request.
type side struct {
	client   bool
	local    string
	targets  []string
	expect   []byte // the name of the next frame this side reads; nil: none (done or not started)
	nonce    []byte
	peerName string
}

func (f *fakeService) DoHandshake(stream altspb.HandshakerService_DoHandshakeServer) error {
	var s *side
	for {
		req, err := stream.Recv()
		if err != nil {
			return nil // the client closed the stream, or it broke: nothing to answer
		}
		resp, serr := s.step(&s, req)
		if serr != nil {
			return stream.Send(&altspb.HandshakerResp{Status: &altspb.HandshakerStatus{Code: uint32(serr.code), Details: serr.details}})
		}
		if err := stream.Send(resp); err != nil {
			return nil
		}
		if resp.Result != nil {
			return nil
		}
	}
}

// step answers one request; *sp is set by the start request.
func (s *side) step(sp **side, req *altspb.HandshakerReq) (*altspb.HandshakerResp, *statusErr) {
	if s != nil && (req.GetClientStart() != nil || req.GetServerStart() != nil) {
		return nil, refuse(codes.FailedPrecondition, "a second start request")
	}
	switch r := req.ReqOneof.(type) {
	case *altspb.HandshakerReq_ClientStart:
		c, serr := clientSide(r.ClientStart)
		if serr != nil {
			return nil, serr
		}
		*sp = c
		c.nonce = make([]byte, nonceLen)
		if _, err := rand.Read(c.nonce); err != nil {
			return nil, refuse(codes.Internal, "nonce: %v", err)
		}
		return &altspb.HandshakerResp{OutFrames: frame(clientInit, append(append([]byte{}, c.nonce...), c.local...)), Status: ok()}, nil
	case *altspb.HandshakerReq_ServerStart:
		v, serr := serverSide(r.ServerStart)
		if serr != nil {
			return nil, serr
		}
		*sp = v
		return v.read(r.ServerStart.InBytes)
	case *altspb.HandshakerReq_Next:
		if s == nil {
			return nil, refuse(codes.FailedPrecondition, "next before a start request")
		}
		return s.read(r.Next.InBytes)
	default:
		return nil, refuse(codes.InvalidArgument, "a request with no start or next")
	}
}

func serviceAccount(id *altspb.Identity) string {
	if id == nil {
		return ""
	}
	return id.GetServiceAccount()
}

func has(list []string, want string) bool {
	for _, x := range list {
		if x == want {
			return true
		}
	}
	return false
}

func clientSide(r *altspb.StartClientHandshakeReq) (*side, *statusErr) {
	if r.HandshakeSecurityProtocol != altspb.HandshakeProtocol_ALTS {
		return nil, refuse(codes.InvalidArgument, "handshake protocol %v, not ALTS", r.HandshakeSecurityProtocol)
	}
	if !has(r.RecordProtocols, recordProtocol) {
		return nil, refuse(codes.InvalidArgument, "record protocols %q lack %s", r.RecordProtocols, recordProtocol)
	}
	if !has(r.ApplicationProtocols, appProtocol) {
		return nil, refuse(codes.InvalidArgument, "application protocols %q lack %s", r.ApplicationProtocols, appProtocol)
	}
	if r.RpcVersions == nil {
		return nil, refuse(codes.InvalidArgument, "no RPC versions")
	}
	c := &side{client: true, local: serviceAccount(r.LocalIdentity), expect: serverFinished}
	if c.local == "" {
		c.local = defaultClient
	}
	for _, t := range r.TargetIdentities {
		if serviceAccount(t) == "" {
			return nil, refuse(codes.InvalidArgument, "a target identity with no service account")
		}
		c.targets = append(c.targets, serviceAccount(t))
	}
	return c, nil
}

func serverSide(r *altspb.StartServerHandshakeReq) (*side, *statusErr) {
	if !has(r.ApplicationProtocols, appProtocol) {
		return nil, refuse(codes.InvalidArgument, "application protocols %q lack %s", r.ApplicationProtocols, appProtocol)
	}
	p := r.HandshakeParameters[int32(altspb.HandshakeProtocol_ALTS)]
	if p == nil {
		return nil, refuse(codes.InvalidArgument, "no ALTS handshake parameters")
	}
	if !has(p.RecordProtocols, recordProtocol) {
		return nil, refuse(codes.InvalidArgument, "record protocols %q lack %s", p.RecordProtocols, recordProtocol)
	}
	if r.RpcVersions == nil {
		return nil, refuse(codes.InvalidArgument, "no RPC versions")
	}
	v := &side{local: defaultServer, expect: clientInit}
	if len(p.LocalIdentities) > 0 && serviceAccount(p.LocalIdentities[0]) != "" {
		v.local = serviceAccount(p.LocalIdentities[0])
	}
	return v, nil
}

func ok() *altspb.HandshakerStatus { return &altspb.HandshakerStatus{Code: uint32(codes.OK)} }

func frame(name, body []byte) []byte {
	out := make([]byte, 4, 4+len(name)+len(body))
	binary.LittleEndian.PutUint32(out, uint32(len(name)+len(body)))
	return append(append(out, name...), body...)
}

// read consumes the one frame this side expects from in, if whole; a partial frame consumes
// nothing (the caller sends it again with the bytes after it), and no byte past it is consumed.
func (s *side) read(in []byte) (*altspb.HandshakerResp, *statusErr) {
	if s.expect == nil {
		return nil, refuse(codes.FailedPrecondition, "no frame expected")
	}
	if len(in) < 4 {
		return &altspb.HandshakerResp{Status: ok()}, nil
	}
	n := binary.LittleEndian.Uint32(in)
	if n > maxFrame {
		return nil, refuse(codes.InvalidArgument, "a frame of %d bytes", n)
	}
	if uint32(len(in)-4) < n {
		return &altspb.HandshakerResp{Status: ok()}, nil
	}
	payload := in[4 : 4+n]
	if !bytes.HasPrefix(payload, s.expect) {
		return nil, refuse(codes.InvalidArgument, "not the %s frame", s.expect)
	}
	body := payload[len(s.expect):]
	consumed := 4 + n
	switch {
	case bytes.Equal(s.expect, clientInit): // the server reads the client's hello
		if len(body) <= nonceLen {
			return nil, refuse(codes.InvalidArgument, "ClientInit of %d bytes", len(body))
		}
		s.nonce, s.peerName, s.expect = append([]byte{}, body[:nonceLen]...), string(body[nonceLen:]), clientFinished
		return &altspb.HandshakerResp{OutFrames: frame(serverFinished, []byte(s.local)), BytesConsumed: consumed, Status: ok()}, nil
	case bytes.Equal(s.expect, serverFinished): // the client reads the server's
		s.peerName, s.expect = string(body), nil
		if s.peerName == "" {
			return nil, refuse(codes.InvalidArgument, "ServerInitAndFinished names no server")
		}
		if len(s.targets) > 0 && !has(s.targets, s.peerName) {
			return nil, refuse(codes.PermissionDenied, "server %s is not a target", s.peerName)
		}
		return &altspb.HandshakerResp{OutFrames: frame(clientFinished, nil), BytesConsumed: consumed, Result: s.result(), Status: ok()}, nil
	default: // ClientFinished: the server is done
		if len(body) != 0 {
			return nil, refuse(codes.InvalidArgument, "ClientFinished with a body")
		}
		s.expect = nil
		return &altspb.HandshakerResp{BytesConsumed: consumed, Result: s.result(), Status: ok()}, nil
	}
}

func (s *side) result() *altspb.HandshakerResult {
	key := sha512.Sum512(append([]byte(keyLabel), s.nonce...))
	id := func(a string) *altspb.Identity {
		return &altspb.Identity{IdentityOneof: &altspb.Identity_ServiceAccount{ServiceAccount: a}}
	}
	return &altspb.HandshakerResult{
		ApplicationProtocol: appProtocol,
		RecordProtocol:      recordProtocol,
		KeyData:             key[:],
		PeerIdentity:        id(s.peerName),
		LocalIdentity:       id(s.local),
		PeerRpcVersions:     rpcVersions,
		MaxFrameSize:        16384,
	}
}
