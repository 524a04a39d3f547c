package setkey

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/ikectx/ikectx/pfkey"
)

func mustParse(t *testing.T, src string, opts *Options) *Script {
	t.Helper()
	if opts == nil {
		opts = &Options{Resolve: noResolve}
	}
	sc, err := Parse("p.conf", []byte(src), opts)
	if err != nil {
		t.Fatalf("%q: %v", src, err)
	}
	return sc
}

// Layout details of real files: CRLF line ends, no final newline,
// statements over several lines, comments after statements and inside a
// multi-line policy, tabs.
func TestParseLayout(t *testing.T) {
	src := "#!/usr/sbin/setkey -f\r\nflush;\r\n\tspdadd 10.0.0.0/24\r\n 10.0.1.0/24 any # trailing comment\r\n -P out ipsec\n  # a comment inside the policy\n  esp/tunnel/10.0.0.1-10.0.1.1/require\n  ah/transport//use ; spdflush ;dump esp;spddump"
	_, err := Parse("p.conf", []byte(src), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "p.conf:8:49: unexpected end of file") {
		t.Fatalf("missing final ';' must be an error at the end: %v", err)
	}
	sc := mustParse(t, src+";", nil)
	if len(sc.Stmts) != 5 {
		t.Fatalf("%d statements", len(sc.Stmts))
	}
	sp := sc.Stmts[1].(*SPDStmt)
	if sp.At != (Pos{File: "p.conf", Line: 3, Col: 2}) {
		t.Errorf("position %v", sp.At)
	}
	if len(sp.Policy.Requests) != 2 || sp.Policy.Requests[1].Proto != ProtoAH || sp.Policy.Requests[1].Level != LevelUse ||
		sp.Policy.Requests[0].Src != netip.MustParseAddrPort("10.0.0.1:0") {
		t.Errorf("bundle: %+v", sp.Policy.Requests)
	}
	if d := sc.Stmts[3].(*FlushStmt); d.Cmd != CmdDump || d.Type != SATypeESP {
		t.Errorf("dump esp: %+v", d)
	}
}

func TestParseSA(t *testing.T) {
	sc := mustParse(t, `add -4n 10.0.0.1[4501] 10.0.0.2 esp-udp 192.168.1.1 0x10 -m tunnel -u 300 -r 16 -f random-pad -f nocyclic-seq
		-lh 10 -ls 9 -bh 1000 -bs 900 -E 3des-cbc 0x0123456789abcdef0123456789abcdef0123456789abcdef -A hmac-sha2-512 0x`+strings.Repeat("11", 64)+`;
	add ::1 ::1 esp-old 10003 -m transport -E des-32iv "12341234" ;
	add ::1 ::1 esp 10002 -E des-deriv "12341234";
	add ::1 ::1 ipcomp 30001 -C deflate -R;
	delete -6 ::1 ::2 ah 0x10004;
	deleteall ::1 ::2 esp;
	get ::1 ::2 esp 4294967295;
	exit;
	this is never parsed`, nil)
	if len(sc.Stmts) != 8 {
		t.Fatalf("%d statements", len(sc.Stmts))
	}
	a := sc.Stmts[0].(*SAStmt)
	if !a.NATT || a.NATTOA != netip.MustParseAddr("192.168.1.1") || a.Src[0].Port != 4501 || a.SPI != 16 || a.Mode != ModeTunnel ||
		a.ReqID != 300 || a.Replay != 16 || a.Pad != PadRandom || !a.NoCyclic || a.HardSeconds != 10 || a.SoftSeconds != 9 ||
		a.HardBytes != 1000 || a.SoftBytes != 900 || len(a.Enc.Key) != 24 || a.Auth.Name != "hmac-sha2-512" || len(a.Auth.Key) != 64 {
		t.Errorf("add: %+v", a)
	}
	if o := sc.Stmts[1].(*SAStmt); !o.Old || !o.IV4B || o.Enc.Name != "des-32iv" {
		t.Errorf("esp-old: %+v", o)
	}
	if o := sc.Stmts[2].(*SAStmt); !o.Deriv {
		t.Errorf("des-deriv: %+v", o)
	}
	if o := sc.Stmts[3].(*SAStmt); o.Comp.Name != "deflate" || !o.RawCPI {
		t.Errorf("ipcomp: %+v", o)
	}
	if o := sc.Stmts[6].(*SAStmt); o.SPI != 0xffffffff {
		t.Errorf("get spi: %x", o.SPI)
	}
	// esp-udp builds NAT-T extensions with the ports (4500 when none).
	ops, err := Build(&Script{Stmts: sc.Stmts[:1]}, pfkey.Linux)
	if err != nil {
		t.Fatal(err)
	}
	m := ops[0].Msg
	if m.NATTType == nil || m.NATTType.Type != 2 || m.NATTSport.Port != 4501 || m.NATTDport.Port != 4500 || m.NATTOAI == nil ||
		m.Src.Addr.Port() != 0 {
		t.Errorf("nat-t: %+v %+v %+v", m.NATTType, m.NATTSport, m.NATTDport)
	}
	if m.SA.Flags != pfkey.SAFlagXPRand {
		t.Errorf("flags %#x", m.SA.Flags)
	}
	// Linux cannot do the KAME DES variants.
	if _, err := Build(&Script{Stmts: sc.Stmts[1:2]}, pfkey.Linux); err == nil || !strings.HasPrefix(err.Error(), "p.conf:3:2: esp-old") {
		t.Errorf("esp-old on linux: %v", err)
	}
	if _, err := Build(&Script{Stmts: sc.Stmts[1:3]}, pfkey.FreeBSD); err != nil {
		t.Errorf("freebsd: %v", err)
	}
	// deleteall: FreeBSD deletes by addresses, Linux dumps then deletes.
	fb, _ := Build(&Script{Stmts: sc.Stmts[5:6]}, pfkey.FreeBSD)
	lx, _ := Build(&Script{Stmts: sc.Stmts[5:6]}, pfkey.Linux)
	if fb[0].Msg.Type != pfkey.MsgDelete || fb[0].Msg.SA != nil || !lx[0].DeleteAll || lx[0].Msg.Type != pfkey.MsgDump {
		t.Errorf("deleteall: %+v / %+v", fb[0], lx[0])
	}
}

func TestParsePolicies(t *testing.T) {
	cases := []struct {
		src  string
		dir  Dir
		act  Action
		prio uint32
		reqs string // proto/mode/src-dst/level:reqid per request
	}{
		{"-P out ipsec esp/transport//require", DirOutbound, ActionIPsec, PriorityDefault, "50/1/-/2:0"},
		{"-P in none", DirInbound, ActionNone, PriorityDefault, ""},
		{"-P fwd discard", DirForward, ActionDiscard, PriorityDefault, ""},
		{"-P out priority 10 bypass", DirOutbound, ActionBypass, PriorityDefault - 10, ""},
		{"-P out prio -10 entrust", DirOutbound, ActionEntrust, PriorityDefault + 10, ""},
		{"-P out prio high ipsec", DirOutbound, ActionIPsec, PriorityHigh, ""},
		{"-P out prio low + 1 ipsec", DirOutbound, ActionIPsec, PriorityLow - 1, ""},
		{"-P out prio def - 2 ipsec", DirOutbound, ActionIPsec, PriorityDefault + 2, ""},
		{"-P out ipsec esp/transport", DirOutbound, ActionIPsec, PriorityDefault, "50/1/-/0:0"},
		{"-P out ipsec esp/transport/", DirOutbound, ActionIPsec, PriorityDefault, "50/1/-/0:0"},
		{"-P out ipsec ah/transport//unique", DirOutbound, ActionIPsec, PriorityDefault, "51/1/-/3:0"},
		{"-P out ipsec ipcomp/tunnel/1.2.3.4-5.6.7.8/use esp/transport//unique:4", DirOutbound, ActionIPsec, PriorityDefault,
			"108/2/1.2.3.4:0-5.6.7.8:0/1:0 50/1/-/3:4"},
		{"-P out ipsec esp/tunnel/::1[500]-::2[4500]/default", DirOutbound, ActionIPsec, PriorityDefault, "50/2/[::1]:500-[::2]:4500/0:0"},
		{"-P out ipsec esp/tunnel/1.2.3.4-5.6.7.8", DirOutbound, ActionIPsec, PriorityDefault, "50/2/1.2.3.4:0-5.6.7.8:0/0:0"},
		{"-P out ipsec esp/transport/me-any/require", DirOutbound, ActionIPsec, PriorityDefault, "50/1/-/2:0"},
		{"-P in ipsec esp/transport/any-me/require", DirInbound, ActionIPsec, PriorityDefault, "50/1/-/2:0"},
	}
	for _, c := range cases {
		sc := mustParse(t, "spdadd 10.0.0.0/8 10.1.0.0/16 any "+c.src+";", nil)
		p := sc.Stmts[0].(*SPDStmt).Policy
		var rs []string
		for _, r := range p.Requests {
			addrs := "-"
			if r.Src.IsValid() {
				addrs = r.Src.String() + "-" + r.Dst.String()
			}
			rs = append(rs, strings.Join([]string{itoa(int(r.Proto)), itoa(int(r.Mode)), addrs, itoa(int(r.Level)) + ":" + itoa(int(r.ReqID))}, "/"))
		}
		if p.Dir != c.dir || p.Action != c.act || !p.HasAction || p.Priority != c.prio || strings.Join(rs, " ") != c.reqs {
			t.Errorf("%s: got dir %v action %v prio %#x reqs %q", c.src, p.Dir, p.Action, p.Priority, strings.Join(rs, " "))
		}
	}
	// spddelete takes a bare direction.
	sc := mustParse(t, "spddelete 10.0.0.0/8 10.1.0.0/16 any -P out;", nil)
	if p := sc.Stmts[0].(*SPDStmt).Policy; p.HasAction || p.Dir != DirOutbound {
		t.Errorf("spddelete: %+v", p)
	}
	// Upper-layer protocols, ports, icmp6 type/code.
	sc = mustParse(t, `spdadd ::1[110] ::1[any] tcp -P out none;
		spdadd ::1 ::1 icmp6 135,0 -P out none;
		spdadd ::1 ::1 58 -P out none;
		spdadd 0.0.0.0/0 0.0.0.0/0 gre -P out none;
		spdadd ::/0 ::/0 ip4 -P out none;
		spdadd 10.0.0.1[ssh] 10.0.0.2 tcp -P out none;`, nil)
	want := []struct {
		upper      uint8
		sport, dpt uint16
	}{{6, 110, 0}, {58, 135, 0}, {58, 0, 0}, {47, 0, 0}, {4, 0, 0}, {6, 22, 0}}
	for i, w := range want {
		s := sc.Stmts[i].(*SPDStmt)
		if s.Upper != w.upper || s.Src.Port != w.sport || s.Dst.Port != w.dpt {
			t.Errorf("statement %d: upper %d ports %d %d", i+1, s.Upper, s.Src.Port, s.Dst.Port)
		}
	}
	if s := sc.Stmts[3].(*SPDStmt); s.Src.Prefix != 0 || s.Dst.Prefix != 0 {
		t.Errorf("0.0.0.0/0: %+v", s.Src)
	}
	if s := sc.Stmts[0].(*SPDStmt); s.Src.Prefix != 128 {
		t.Errorf("default prefix: %d", s.Src.Prefix)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// Host names go through the resolver (unless -n); several addresses make
// one SA message per pair of one family, and are an error for spdadd.
func TestParseHostnames(t *testing.T) {
	res := func(host string, family int) ([]netip.Addr, error) {
		switch host {
		case "gw.example":
			return []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}, nil
		case "peer.example":
			return []netip.Addr{netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("2001:db8::2")}, nil
		}
		return nil, errors.New("no such host")
	}
	sc := mustParse(t, "add gw.example peer.example esp 1 -E null;", &Options{Resolve: res})
	ops, err := Build(sc, pfkey.Linux)
	if err != nil || len(ops) != 2 {
		t.Fatalf("%d ops, %v", len(ops), err)
	}
	sc = mustParse(t, "add -6 gw.example peer.example esp 1 -E null;", &Options{Resolve: res})
	if a := sc.Stmts[0].(*SAStmt); len(a.Src) != 1 || !a.Src[0].Addr.Is6() {
		t.Errorf("-6: %+v", a.Src)
	}
	_, err = Parse("h.conf", []byte("spdadd gw.example peer.example any -P out none;"), &Options{Resolve: res})
	if err == nil || !strings.HasPrefix(err.Error(), "h.conf:1:8: multiple address specified") {
		t.Errorf("spdadd with several addresses: %v", err)
	}
	_, err = Parse("h.conf", []byte("add -n gw.example ::1 esp 1 -E null;"), &Options{Resolve: res})
	if err == nil || !strings.HasPrefix(err.Error(), "h.conf:1:8: invalid address") {
		t.Errorf("-n with a name: %v", err)
	}
}

func TestWarnings(t *testing.T) {
	var got []string
	opts := &Options{Resolve: noResolve, Warn: func(e *Error) { got = append(got, e.Error()) }}
	mustParse(t, "get ::1 ::2 esp 1 -m tunnel;\nadd ::1 ::2 esp 2 -E simple;", opts)
	if len(got) != 2 || !strings.HasPrefix(got[0], "p.conf:1:1: WARNING: mode is obsolete") || !strings.HasPrefix(got[1], "p.conf:2:22: WARNING: obsolete algorithm simple") {
		t.Errorf("warnings: %q", got)
	}
}

// Script.Wipe zeroes every key the script holds.
func TestScriptWipe(t *testing.T) {
	sc := mustParse(t, `add ::1 ::2 esp 1 -E aes-cbc "0123456789abcdef" -A hmac-sha1 "01234567890123456789";`, nil)
	a := sc.Stmts[0].(*SAStmt)
	enc, auth := a.Enc.Key, a.Auth.Key
	sc.Wipe()
	for _, b := range append(enc, auth...) {
		if b != 0 {
			t.Fatal("key bytes survive Wipe")
		}
	}
}
