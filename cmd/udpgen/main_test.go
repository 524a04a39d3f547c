package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ikectx/ikectx/testbed/traffic"
)

func TestUsage(t *testing.T) {
	var o, e bytes.Buffer
	if run(context.Background(), nil, &o, &e) != 2 || !strings.Contains(e.String(), "usage") {
		t.Fatal(e.String())
	}
	if run(context.Background(), []string{"bogus"}, &o, &e) != 2 {
		t.Fatal("unknown command")
	}
	if run(context.Background(), []string{"send", "--to", "nope"}, &o, &e) != 2 {
		t.Fatal("bad --to")
	}
	if run(context.Background(), []string{"echo", "--listen", "x"}, &o, &e) != 2 {
		t.Fatal("echo with a bad address")
	}
	if run(context.Background(), []string{"echo", "--duration", "1ms", "--listen", "127.0.0.1:0"}, &o, &e) != 0 {
		t.Fatal("echo for 1 ms:", e.String())
	}
	if run(context.Background(), []string{"sink", "--listen", "x"}, &o, &e) != 2 {
		t.Fatal("bad --listen")
	}
}

func TestSendToSink(t *testing.T) {
	l, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skip(err)
	}
	port := l.LocalAddr().(*net.UDPAddr).Port
	l.Close()
	file := filepath.Join(t.TempDir(), "rx.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var so, se bytes.Buffer
	go func() {
		done <- run(ctx, []string{"sink", "--listen", "[::1]:" + itoa(port), "--out", file}, &so, &se)
	}()
	time.Sleep(200 * time.Millisecond)
	var o, e bytes.Buffer
	if rc := run(context.Background(), []string{"send", "--to", "[::1]:" + itoa(port), "--rate", "500", "--count", "10"}, &o, &e); rc != 0 {
		t.Fatalf("send rc %d: %s", rc, e.String())
	}
	if !strings.HasPrefix(o.String(), "sent 10 errors 0 last 10") {
		t.Fatalf("send printed %q", o.String())
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	if rc := <-done; rc != 0 {
		t.Fatalf("sink rc %d: %s", rc, se.String())
	}
	f, _ := os.Open(file)
	defer f.Close()
	recs, err := traffic.ReadRecords(f)
	if err != nil || len(recs) != 10 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
