package esptest

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestBuildParseUDP(t *testing.T) {
	for _, c := range []struct {
		src, dst string
		next     uint8
	}{
		{"10.1.0.1:9999", "10.2.0.1:9", 4},
		{"[fd00:1::1]:9999", "[fd00:2::1]:9", 41},
	} {
		src, dst := netip.MustParseAddrPort(c.src), netip.MustParseAddrPort(c.dst)
		next, pkt, err := BuildUDP(src, dst, 7, []byte("hello"))
		if err != nil || next != c.next {
			t.Fatalf("BuildUDP(%v, %v): next %d, %v; want %d", src, dst, next, err, c.next)
		}
		gs, gd, pl, err := ParseUDP(next, pkt)
		if err != nil || gs != src || gd != dst || !bytes.Equal(pl, []byte("hello")) {
			t.Errorf("ParseUDP: %v -> %v %q, %v; want %v -> %v \"hello\"", gs, gd, pl, err, src, dst)
		}
		if _, _, _, err := ParseUDP(next, pkt[:10]); err == nil {
			t.Errorf("ParseUDP of a truncated packet: no error")
		}
	}
}
