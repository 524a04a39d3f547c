package ikev2ctx

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func sample() *SA {
	return &SA{SPIi: 0x1122334455667788, SPIr: 0x99, Encr: 20, KeyLength: 256, PRF: 5, DHGroup: 19,
		Lifetime: time.Hour, Local: netip.MustParseAddrPort("192.0.2.1:4500"), Remote: netip.MustParseAddrPort("192.0.2.10:4500"),
		SKEYSEED: Secret("seedseedseed"), SKd: Secret("dddd"), SKei: Secret("eeee"), Ni: []byte("ni"), Nr: []byte("nr"),
		PAD: PAD{IDType: 3, ID: []byte("mn@example.org"), AuthMethod: 2, Secret: Secret("psk-psk")},
		Children: []ChildSA{{Proto: 3, Mode: 1, ESN: true, SPIIn: 1, SPIOut: 2, Encr: 20, KeyLength: 256,
			TSi: []TrafficSelector{{Proto: 17, StartPort: 500, EndPort: 500, Start: netip.MustParseAddr("192.0.2.10"), End: netip.MustParseAddr("192.0.2.10")}}}},
	}
}

func TestRoundTripIPv4(t *testing.T) {
	b, err := sample().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	sa, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if sa.SPIi != 0x1122334455667788 || string(sa.PAD.Secret) != "psk-psk" || !sa.Children[0].ESN ||
		sa.Children[0].TSi[0].Start != netip.MustParseAddr("192.0.2.10") || sa.Local.Port() != 4500 {
		t.Fatalf("%#v", sa)
	}
	for i := range b {
		if _, err := Parse(b[:i]); err == nil {
			t.Fatalf("truncated at %d accepted", i)
		}
	}
}

func TestNoKeysPrinted(t *testing.T) {
	sa := sample()
	s := fmt.Sprintf("%v %+v %#v %s", sa, *sa, sa, sa.PAD.Secret)
	for _, k := range []string{"seedseed", "psk-psk", "dddd", "112 112"} {
		if strings.Contains(s, k) {
			t.Fatalf("%q printed in %s", k, s)
		}
	}
	sa.Wipe()
	if sa.SKEYSEED[0] != 0 || sa.PAD.Secret[0] != 0 || sa.Ni[0] != 0 {
		t.Fatal("not wiped")
	}
	if len(sa.SKd.Fingerprint()) != 8 {
		t.Fatal("fingerprint")
	}
}

func TestLimits(t *testing.T) {
	sa := sample()
	sa.PAD.Cert = make([]byte, maxVar+1)
	if _, err := sa.MarshalBinary(); err == nil {
		t.Fatal("oversized certificate accepted")
	}
	sa = sample()
	sa.Children[0].TSi[0].End = netip.MustParseAddr("2001:db8::1")
	if _, err := sa.MarshalBinary(); err == nil {
		t.Fatal("mixed-family selector accepted")
	}
}
