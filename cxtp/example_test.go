package cxtp_test

import (
	"fmt"
	"net/netip"

	"github.com/ikectx/ikectx/cxtp"
)

// The MN builds a CTAR for the new AR, authorized with the key it shares
// with the previous AR; the new AR parses it and checks the token with the
// key the previous AR sent in its PCTD.
func Example() {
	key := []byte("key shared by MN and pAR")
	prev := netip.MustParseAddr("2001:db8:1::10")
	ctar := &cxtp.CTAR{
		Ack:     true,
		PrevCoA: prev,
		PrevAR:  netip.MustParseAddr("2001:db8:1::1"),
		Seq:     1,
	}
	ctar.Token = cxtp.Token(key, prev, ctar.Seq, nil)
	wire, _ := cxtp.Marshal(ctar)

	m, err := cxtp.Parse(wire)
	if err != nil {
		panic(err)
	}
	got := m.(*cxtp.CTAR)
	fmt.Println(m.Type(), len(wire), "octets, token ok:", cxtp.VerifyToken(key, got.PrevCoA, got.Seq, nil, got.Token))
	// Output: CTAR 44 octets, token ok: true
}

func ExampleSplitContext() {
	context := make([]byte, 5000) // e.g. many SAs of one MN
	cdbs := cxtp.SplitContext(cxtp.FPTIPsecSA, context)
	for _, c := range cdbs {
		fmt.Println(c.FPT == cxtp.FPTIPsecSA, len(c.Data), c.WireLen())
	}
	// Output:
	// true 2036 2040
	// true 2036 2040
	// true 928 936
}

func ExamplePCTD_String() {
	m := &cxtp.PCTD{PrevCoA: netip.MustParseAddr("2001:db8:1::10"), Algorithm: cxtp.AlgHMACSHA1, Key: []byte("secret key bytes")}
	fmt.Println(m)
	fmt.Printf("%x\n", m.Key)
	// Output:
	// PCTD{A=false elapsed=0ms prevCoA=2001:db8:1::10 alg=HMAC_SHA1 key=<16 bytes> cdbs=[]}
	// <16-byte key>
}
