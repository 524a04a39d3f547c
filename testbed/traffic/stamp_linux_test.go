package traffic

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestSinkKernelStamp: a datagram that waited in the socket is recorded
// at its arrival (the kernel's time stamp), not when the sink read it.
func TestSinkKernelStamp(t *testing.T) {
	var out syncBuf
	s, err := Listen(netip.MustParseAddrPort("127.0.0.1:0"), &out)
	if err != nil {
		t.Fatal(err)
	}
	if !s.stamped {
		t.Fatal("SO_TIMESTAMPNS not enabled on Linux")
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(s.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sent := time.Now()
	if _, err := c.Write(Packet{Seq: 7, Sent: sent}.AppendBinary(nil, HeaderLen)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // queued, not read yet
	read := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if n, _ := s.Counts(); n == 1 || time.Now().After(deadline) {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	recs, err := ReadRecords(strings.NewReader(out.String()))
	if err != nil || len(recs) != 1 {
		t.Fatal(recs, err)
	}
	if r := recs[0]; r.Recv < sent.UnixNano() || r.Recv >= read.UnixNano() {
		t.Fatalf("recv %d: want the arrival, between the send %d and the read %d", r.Recv, sent.UnixNano(), read.UnixNano())
	}
}

func TestStampParse(t *testing.T) {
	if _, ok := (kernelStamper{}).parse(nil); ok {
		t.Fatal("no control data, no stamp")
	}
	if _, ok := (kernelStamper{}).parse([]byte{1, 2, 3}); ok {
		t.Fatal("garbage parsed")
	}
}

// FuzzStampParse: no control data makes the parser panic.
func FuzzStampParse(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, (kernelStamper{}).oobLen()))
	f.Fuzz(func(t *testing.T, b []byte) { (kernelStamper{}).parse(b) })
}
