package esptest

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/ikectx/ikectx/pfkey"
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

func TestFromPFKEY(t *testing.T) {
	for _, c := range []struct {
		enc    pfkey.EncAlg
		auth   pfkey.AuthAlg
		cipher Cipher
		integ  Integrity
	}{
		{pfkey.EncDESCBC, pfkey.AuthMD5HMAC, DESCBC, HMACMD596},
		{pfkey.Enc3DESCBC, pfkey.AuthSHA1HMAC, TripleDESCBC, HMACSHA196},
		{pfkey.EncAESCBC, pfkey.AuthSHA2_256HMAC, AESCBC, HMACSHA256128},
		{pfkey.EncAESCBC, pfkey.AuthSHA2_384HMAC, AESCBC, HMACSHA384192},
		{pfkey.EncAESCBC, pfkey.AuthSHA2_512HMAC, AESCBC, HMACSHA512256},
		{pfkey.EncAESGCMICV16, pfkey.AuthNone, AESGCM16, 0},
		{pfkey.EncAESGCMICV12, pfkey.AuthNone, AESGCM12, 0},
	} {
		sa, err := FromPFKEY(7, c.enc, c.auth, []byte{1}, []byte{2})
		if err != nil || sa.SPI != 7 || sa.Cipher != c.cipher || sa.Auth != c.integ || sa.EncKey[0] != 1 || sa.AuthKey[0] != 2 {
			t.Errorf("%v/%v: %+v, %v", c.enc, c.auth, sa, err)
		}
	}
	if _, err := FromPFKEY(7, pfkey.EncAESCBC, pfkey.AuthNone, nil, nil); err == nil {
		t.Error("AES-CBC without integrity: no error")
	}
	if _, err := FromPFKEY(7, pfkey.EncNull, pfkey.AuthSHA1HMAC, nil, nil); err == nil {
		t.Error("NULL encryption: no error")
	}
}
