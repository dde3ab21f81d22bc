package main

// The throughput bench's Go ends (src/bench/goPeer.ts): after the handshake, bench-sink (a
// server) writes one byte "go" and reads -mib MiB; bench-source (a client) waits for that byte,
// then writes -mib MiB in 64 KiB writes through grpc-go's record layer. Each prints one JSON line
// with the bytes it moved and the seconds from "go" to its last byte (the sink's is the measure).

import (
	"context"
	"io"
	"net"
	"time"

	"google.golang.org/grpc"
)

const benchWrite = 64 * 1024

type benchReport struct {
	Side    string  `json:"side"`
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
}

func benchSink(conn net.Conn, total int64) benchReport {
	buf := make([]byte, benchWrite)
	t0 := time.Now()
	if _, err := conn.Write([]byte{'g'}); err != nil {
		fail("bench go: %v", err)
	}
	var got int64
	for got < total {
		n, err := conn.Read(buf)
		got += int64(n)
		if err != nil && got < total {
			fail("bench read after %d of %d bytes: %v", got, total, err)
		}
	}
	return benchReport{"sink", got, time.Since(t0).Seconds()}
}

func benchSource(conn net.Conn, total int64) benchReport {
	one := make([]byte, 1)
	if _, err := io.ReadFull(conn, one); err != nil {
		fail("bench wait for go: %v", err)
	}
	chunk := make([]byte, benchWrite)
	for i := range chunk {
		chunk[i] = 0xa5
	}
	t0 := time.Now()
	var sent int64
	for sent < total {
		n := int64(len(chunk))
		if total-sent < n {
			n = total - sent
		}
		if _, err := conn.Write(chunk[:n]); err != nil {
			fail("bench write after %d of %d bytes: %v", sent, total, err)
		}
		sent += n
	}
	return benchReport{"source", sent, time.Since(t0).Seconds()}
}

// bench runs one end: the sink listens on listen, the source dials connect.
func bench(ctx context.Context, hs *grpc.ClientConn, sink bool, listen, connect string, targets []string, mib int64) {
	var raw net.Conn
	var err error
	if sink {
		l, err := net.Listen("tcp", listen)
		if err != nil {
			fail("listen %s: %v", listen, err)
		}
		emit(map[string]string{"listening": l.Addr().String()})
		raw, err = l.Accept()
		if err != nil {
			fail("accept: %v", err)
		}
		l.Close()
	} else if raw, err = net.Dial("tcp", connect); err != nil {
		fail("connect %s: %v", connect, err)
	}
	var conn net.Conn
	if sink {
		conn, _ = serverHandshake(ctx, hs, raw)
	} else {
		conn, _ = clientHandshake(ctx, hs, raw, targets)
	}
	defer conn.Close()
	if sink {
		emit(benchSink(conn, mib<<20))
		return
	}
	emit(benchSource(conn, mib<<20))
	// Stay until the sink closes: closing first could cut bytes still in flight.
	io.Copy(io.Discard, conn)
}
