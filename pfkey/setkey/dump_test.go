package setkey

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ikectx/ikectx/pfkey"
)

func TestFormatSA(t *testing.T) {
	created := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	f := &Formatter{Dialect: pfkey.Linux, Loc: time.UTC, Now: func() time.Time { return created.Add(42 * time.Second) }}
	m := &pfkey.Message{
		Type: pfkey.MsgDump, SAType: pfkey.SATypeESP, Seq: 1, PID: 4242,
		SA:              &pfkey.SA{SPI: 4096, Replay: 32, State: pfkey.SAStateMature, Auth: pfkey.AuthSHA1HMAC, Enc: pfkey.EncAESCBC},
		SA2:             &pfkey.SA2{Mode: pfkey.ModeTunnel, ReqID: 0},
		Src:             pfkey.HostAddress(netip.MustParseAddr("2001:db8::1")),
		Dst:             pfkey.HostAddress(netip.MustParseAddr("2001:db8::2")),
		EncKey:          pfkey.NewKey([]byte{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}),
		AuthKey:         pfkey.NewKey([]byte("01234567890123456789")),
		LifetimeCurrent: &pfkey.Lifetime{Bytes: 1248, AddTime: uint64(created.Unix()), UseTime: uint64(created.Unix() + 1)},
		LifetimeHard:    &pfkey.Lifetime{},
		LifetimeSoft:    &pfkey.Lifetime{},
	}
	var b strings.Builder
	if err := f.FormatSA(&b, m); err != nil {
		t.Fatal(err)
	}
	want := "2001:db8::1 2001:db8::2 \n" +
		"\tesp mode=tunnel spi=4096(0x00001000) reqid=0(0x00000000)\n" +
		"\tE: aes-cbc  00112233 44556677 8899aabb ccddeeff\n" +
		"\tA: hmac-sha1  30313233 34353637 38393031 32333435 36373839\n" +
		"\tseq=0x00000000 replay=32 flags=0x00000000 state=mature \n" +
		"\tcreated: Nov 27 09:30:00 2026\tcurrent: Nov 27 09:30:42 2026\n" +
		"\tdiff: 42(s)\thard: 0(s)\tsoft: 0(s)\n" +
		"\tlast: Nov 27 09:30:01 2026\thard: 0(s)\tsoft: 0(s)\n" +
		"\tcurrent: 1248(bytes)\thard: 0(bytes)\tsoft: 0(bytes)\n" +
		"\tallocated: 0\thard: 0\tsoft: 0\n" +
		"\tsadb_seq=1 pid=4242 refcnt=0\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestFormatPolicy(t *testing.T) {
	f := &Formatter{Dialect: pfkey.Linux, Loc: time.UTC}
	m := &pfkey.Message{
		Type: pfkey.MsgXSPDDump, Seq: 0, PID: 77,
		Src: pfkey.PrefixAddress(netip.MustParsePrefix("2001:db8::/64"), 0, pfkey.ProtoAny),
		Dst: pfkey.PrefixAddress(netip.MustParsePrefix("2001:db8:1::/64"), 0, pfkey.ProtoAny),
		Policy: &pfkey.Policy{Type: pfkey.PolicyIPsec, Dir: pfkey.DirOutbound, ID: 1, Priority: PriorityDefault,
			Requests: []pfkey.IPSecRequest{{Proto: pfkey.ProtoESP, Mode: pfkey.ModeTunnel, Level: pfkey.LevelRequire,
				Src: netip.MustParseAddrPort("[2001:db8::1]:0"), Dst: netip.MustParseAddrPort("[2001:db8::2]:0")},
				{Proto: pfkey.ProtoAH, Mode: pfkey.ModeTransport, Level: pfkey.LevelUnique, ReqID: 16385}}},
		LifetimeCurrent: &pfkey.Lifetime{AddTime: uint64(time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC).Unix())},
		LifetimeHard:    &pfkey.Lifetime{},
	}
	var b strings.Builder
	if err := f.FormatPolicy(&b, m); err != nil {
		t.Fatal(err)
	}
	want := "2001:db8::/64[any] 2001:db8:1::/64[any] any\n" +
		"\tout prio def ipsec\n" +
		"\tesp/tunnel/2001:db8::1-2001:db8::2/require\n" +
		"\tah/transport//unique#16385\n" +
		"\tcreated: Nov 27 09:30:00 2026  lastused:                     \n" +
		"\tlifetime:0(s) validtime:0(s)\n" +
		"\tspid=1 seq=0 pid=77\n" +
		"\trefcnt=0\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	// Priorities print as they are written.
	for prio, s := range map[uint32]string{
		PriorityDefault - 10: "out prio def + 10 discard",
		PriorityDefault + 10: "out prio def - 10 discard",
		PriorityLow:          "out prio low discard",
		PriorityHigh + 5:     "out prio high - 5 discard",
		0:                    "out discard",
	} {
		got := f.PolicyString(&pfkey.Policy{Dir: pfkey.DirOutbound, Priority: prio}, " ")
		if got != s {
			t.Errorf("priority %#x: got %q want %q", prio, got, s)
		}
	}
	// FreeBSD's setkey prints no priority.
	fb := &Formatter{Dialect: pfkey.FreeBSD}
	if got := fb.PolicyString(&pfkey.Policy{Dir: pfkey.DirInbound, Type: pfkey.PolicyNone, Priority: PriorityDefault}, " "); got != "in none" {
		t.Errorf("freebsd: got %q", got)
	}
	// icmp6 selectors print type,code instead of ports.
	m2 := &pfkey.Message{
		Src:    pfkey.PrefixAddress(netip.MustParsePrefix("::1/128"), 135, pfkey.ProtoICMPv6),
		Dst:    pfkey.PrefixAddress(netip.MustParsePrefix("::1/128"), 0, pfkey.ProtoICMPv6),
		Policy: &pfkey.Policy{Type: pfkey.PolicyNone, Dir: pfkey.DirOutbound},
	}
	b.Reset()
	f.FormatPolicy(&b, m2)
	if !strings.HasPrefix(b.String(), "::1 ::1 icmp6 135,0\n\tout none\n") {
		t.Errorf("icmp6: got %q", b.String())
	}
}
