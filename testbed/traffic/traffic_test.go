package traffic

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPacketGolden(t *testing.T) {
	p := Packet{Seq: 0x0102030405060708, Sent: time.Unix(0, 0x1122334455667788)}
	got := p.AppendBinary(nil, 30)
	want := []byte{'I', 'K', 'G', 'N', 1, 0, 0, 0,
		1, 2, 3, 4, 5, 6, 7, 8,
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
		0, 0, 0, 0, 0, 0}
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x\nwant % x", got, want)
	}
	if len(p.AppendBinary(nil, 3)) != HeaderLen {
		t.Fatal("a size below the header must give the header")
	}
	q, err := Decode(got)
	if err != nil || q.Seq != p.Seq || !q.Sent.Equal(p.Sent) {
		t.Fatalf("decode: %+v %v", q, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := Packet{Seq: 1, Sent: time.Unix(1, 0)}.AppendBinary(nil, 0)
	for i := 0; i < HeaderLen; i++ {
		if _, err := Decode(good[:i]); !errors.Is(err, ErrShort) {
			t.Errorf("len %d: %v", i, err)
		}
	}
	b := append([]byte(nil), good...)
	b[0] = 'X'
	if _, err := Decode(b); !errors.Is(err, ErrMagic) {
		t.Errorf("magic: %v", err)
	}
	b = append([]byte(nil), good...)
	b[4] = 9
	if _, err := Decode(b); !errors.Is(err, ErrVersion) {
		t.Errorf("version: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Packet{Seq: 7, Sent: time.Unix(5, 6)}.AppendBinary(nil, 40))
	f.Add([]byte("IKGN"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			return
		}
		q, err := Decode(p.AppendBinary(nil, len(b)))
		if err != nil || q != p {
			t.Fatalf("round trip %+v -> %+v %v", p, q, err)
		}
	})
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSendSinkLoopback(t *testing.T) {
	var out syncBuf
	s, err := Listen(netip.MustParseAddrPort("[::1]:0"), &out)
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	st, err := Send(context.Background(), SendConfig{To: s.Addr(), Interval: 2 * time.Millisecond, Count: 20, Size: 64, FirstSeq: 5})
	if err != nil || st.Sent != 20 || st.Last != 24 {
		t.Fatalf("send: %+v %v", st, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if n, _ := s.Counts(); n == 20 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	recs, err := ReadRecords(strings.NewReader(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 20 {
		t.Fatalf("%d records", len(recs))
	}
	for _, r := range recs {
		if r.Src != "::1" || r.Recv < r.Sent || r.Seq < 5 || r.Seq > 24 {
			t.Errorf("record %+v", r)
		}
	}
	if l := Lost(recs, 5, 24); l != 0 {
		t.Errorf("lost %d", l)
	}
	if l := Lost(recs, 1, 24); l != 4 {
		t.Errorf("lost %d, want 4", l)
	}
}

func TestReadRecordsError(t *testing.T) {
	recs, err := ReadRecords(strings.NewReader("{\"seq\":1}\n\n{bad\n"))
	if err == nil || len(recs) != 1 || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("%v %v", recs, err)
	}
}

func TestEchoRTT(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Echo(ctx, c) }()
	rtt, err := EchoRTT(context.Background(), c.LocalAddr().(*net.UDPAddr).AddrPort(), 5, 2*time.Second)
	if err != nil || rtt <= 0 || rtt > 2*time.Second {
		t.Fatal(rtt, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// nobody answers: a bounded error
	if _, err := EchoRTT(context.Background(), c.LocalAddr().(*net.UDPAddr).AddrPort(), 1, 50*time.Millisecond); err == nil {
		t.Fatal("an echo without a server answered")
	}
}
