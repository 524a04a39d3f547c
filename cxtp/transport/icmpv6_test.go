package transport

import (
	"bytes"
	"testing"
)

// The ICMPv6 header of a CXTP message, written out from RFC 4065/4067:
// type 150, code 0, checksum (kernel), subtype 1, 3 reserved octets.
func TestICMPv6Header(t *testing.T) {
	msg := []byte{0x26, 0x80, 0x00, 0x08, 198, 51, 100, 10}
	want := append([]byte{150, 0, 0, 0, 1, 0, 0, 0}, msg...)
	got := AppendICMPv6(nil, msg)
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x", got)
	}
	m, ok := ParseICMPv6(got)
	if !ok || !bytes.Equal(m, msg) {
		t.Fatalf("parse: %v % x", ok, m)
	}
	for _, bad := range [][]byte{
		{150, 0, 0, 0, 1, 0, 0},    // short
		{151, 0, 0, 0, 1, 0, 0, 0}, // type
		{150, 1, 0, 0, 1, 0, 0, 0}, // code
		{150, 0, 0, 0, 2, 0, 0, 0}, // subtype
		{128, 0, 0, 0, 0, 1, 0, 1}, // echo request
	} {
		if _, ok := ParseICMPv6(bad); ok {
			t.Errorf("% x accepted", bad)
		}
	}
	// Checksum and reserved octets are not interpreted.
	if _, ok := ParseICMPv6([]byte{150, 0, 0xab, 0xcd, 1, 9, 9, 9}); !ok {
		t.Error("nonzero checksum/reserved rejected")
	}
}

func FuzzParseICMPv6(f *testing.F) {
	f.Add(AppendICMPv6(nil, []byte{0x26, 0x80, 0x00, 0x08, 1, 2, 3, 4}))
	f.Add([]byte{150})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := ParseICMPv6(b)
		if ok && (len(b) < 8 || len(m) != len(b)-8) {
			t.Fatalf("bad split of %d octets", len(b))
		}
	})
}
