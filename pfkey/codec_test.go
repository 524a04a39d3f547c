package pfkey

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// fullMessage fills every extension the dialect has.
func fullMessage(d *Dialect) *Message {
	m := &Message{
		Version: Version, Type: MsgAcquire, Errno: 0, SAType: SATypeESP, Reserved: 0, Seq: 77, PID: 4242,
		SA:              &SA{SPI: 0xdeadbeef, Replay: 64, State: SAStateDying, Auth: AuthSHA2_512HMAC, Enc: EncAESGCMICV16, Flags: SAFlagXCycSeq},
		LifetimeCurrent: &Lifetime{Allocations: 1, Bytes: 2, AddTime: 3, UseTime: 4},
		LifetimeHard:    &Lifetime{Allocations: 5, Bytes: 6, AddTime: 7, UseTime: 8},
		LifetimeSoft:    &Lifetime{Allocations: 9, Bytes: 10, AddTime: 11, UseTime: 12},
		Src:             &Address{Proto: ProtoTCP, PrefixLen: 48, Addr: netip.AddrPortFrom(netip.MustParseAddr("2001:db8:a::"), 80)},
		Dst:             &Address{Proto: ProtoTCP, PrefixLen: 128, Addr: netip.AddrPortFrom(netip.MustParseAddr("fe80::1%3"), 443)},
		Proxy:           HostAddress(netip.MustParseAddr("10.1.2.3")),
		AuthKey:         NewKey(make([]byte, 64)),
		EncKey:          &Key{Bits: 288, Data: []byte("0123456789abcdef0123456789abcdef0123")},
		SrcIdentity:     &Identity{Type: IdentFQDN, ID: 1, Data: []byte("pAR.example.net")},
		DstIdentity:     &Identity{Type: IdentUserFQDN, ID: 2, Data: []byte("mn@example.net")},
		Sensitivity:     &Sensitivity{DPD: 1, SensLevel: 2, IntegLevel: 3, Sens: []uint64{0xff}, Integ: []uint64{1, 2}},
		Proposal: &Proposal{Replay: 32, Combs: []Comb{
			{Auth: AuthSHA1HMAC, Enc: EncAESCBC, AuthMinBits: 160, AuthMaxBits: 160, EncMinBits: 128, EncMaxBits: 256, SoftAllocations: 1, HardAllocations: 2, SoftBytes: 3, HardBytes: 4, SoftAddTime: 5, HardAddTime: 6, SoftUseTime: 7, HardUseTime: 8},
			{Auth: AuthMD5HMAC, Enc: Enc3DESCBC},
		}},
		SupportedAuth: &Supported{Algs: []Alg{{ID: 2, MinBits: 128, MaxBits: 128}, {ID: 3, MinBits: 160, MaxBits: 160}}},
		SupportedEnc:  &Supported{Algs: []Alg{{ID: 12, IVLen: 16, MinBits: 128, MaxBits: 256}}},
		SPIRange:      &SPIRange{Min: 256, Max: 0xffffffff},
		KMPrivate:     &KMPrivate{Data: []byte("12345678")},
		Policy: &Policy{Type: PolicyIPsec, Dir: DirOutbound, ID: 99, Priority: 7, Requests: []IPSecRequest{
			{Proto: ProtoIPComp, Mode: ModeTunnel, Level: LevelUse, Src: netip.MustParseAddrPort("10.0.0.1:0"), Dst: netip.MustParseAddrPort("10.0.0.2:0")},
			{Proto: ProtoESP, Mode: ModeTransport, Level: LevelUnique, ReqID: 0x3fff},
			{Proto: ProtoAH, Mode: ModeTunnel, Level: LevelRequire, ReqID: 1, Src: netip.AddrPortFrom(a1, 0), Dst: netip.AddrPortFrom(a2, 0)},
		}},
		SA2:       &SA2{Mode: ModeTunnel, Sequence: 12345, ReqID: 16385},
		NATTType:  &NATTType{Type: 2},
		NATTSport: &NATTPort{Port: 4500},
		NATTDport: &NATTPort{Port: 45000},
		NATTOAI:   HostAddress(netip.MustParseAddr("192.168.1.10")),
		Unknown:   []RawExtension{{Type: 200, Data: []byte{1, 2, 3, 4}}},
	}
	if d.Name == "freebsd" {
		m.Policy.Scope = ScopeGlobal
		m.NATTOAR = HostAddress(netip.MustParseAddr("192.168.1.20"))
		m.NATTFrag = &NATTFrag{FragLen: 1400}
		m.SAReplay = &SAReplay{Replay: 4096}
		m.NewSrc = HostAddress(a1)
		m.NewDst = HostAddress(a2)
	} else {
		m.SecCtx = &SecCtx{Alg: 1, DOI: 1, Context: []byte("system_u:object_r:ipsec_spd_t:s0")}
		m.KMAddress = &KMAddress{Local: netip.AddrPortFrom(a1, 500), Remote: netip.AddrPortFrom(a2, 500)}
		m.Filter = &Filter{Src: netip.MustParsePrefix("2001:db8::/32"), Dst: netip.MustParsePrefix("2001:db8:1::/48")}
	}
	return m
}

func TestRoundTripAllExtensions(t *testing.T) {
	for _, d := range []*Dialect{Linux, FreeBSD, linuxLE, freebsdLE} {
		t.Run(d.Name, func(t *testing.T) {
			m := fullMessage(d)
			b, err := d.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if len(b)%8 != 0 {
				t.Fatalf("length %d", len(b))
			}
			got, err := d.Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
			}
			b2, err := d.Marshal(got)
			if err != nil || string(b2) != string(b) {
				t.Fatalf("re-encode differs (%v)", err)
			}
		})
	}
}

func TestDialectOnlyExtensions(t *testing.T) {
	m := &Message{Type: MsgAdd, NATTOAR: HostAddress(a1)}
	if _, err := Linux.Marshal(m); err == nil || !strings.Contains(err.Error(), "x_nat_t_oar") {
		t.Errorf("linux NAT_T_OAR: %v", err)
	}
	m = &Message{Type: MsgDump, Filter: &Filter{Src: net1, Dst: net2}}
	if _, err := FreeBSD.Marshal(m); err == nil || !strings.Contains(err.Error(), "x_filter") {
		t.Errorf("freebsd filter: %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := hx(t, sadbAddHeader+linuxAddrs+sadbAddTail)
	mut := func(f func(b []byte) []byte) []byte {
		b := append([]byte(nil), good...)
		return f(b)
	}
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"short", good[:10], "truncated"},
		{"version", mut(func(b []byte) []byte { b[0] = 1; return b }), "version 1"},
		{"msglen long", mut(func(b []byte) []byte { b[4] = 0x1c; return b }), "truncated"},
		{"msglen short", mut(func(b []byte) []byte { b[4] = 0x1a; return b }), "sadb_msg_len"},
		{"ext len 0", mut(func(b []byte) []byte { b[16] = 0; return b }), "SADB_ADD: sa at offset 16: extension length 0"},
		{"ext too long", mut(func(b []byte) []byte { b[16] = 0xff; return b }), "truncated"},
		{"sa wrong size", mut(func(b []byte) []byte {
			// make the lifetime (4 units) look like part of the SA
			b[16] = 6
			return b
		}), "sa at offset 16: length 48, want 16"},
		{"duplicate", mut(func(b []byte) []byte {
			b[32+2] = 1 // lifetime hard becomes a second SA... with wrong size
			return b
		}), "offset 32"},
		{"bad family", mut(func(b []byte) []byte { b[64+8] = 99; return b }), "address_src at offset 64: unsupported address family 99"},
		{"prefix too long", mut(func(b []byte) []byte { b[64+5] = 129; return b }), "prefix length 129"},
		{"key bits", mut(func(b []byte) []byte { b[144+4] = 0xff; b[144+5] = 1; return b }), "key_auth at offset 144: key of 511 bits"},
	}
	for _, c := range cases {
		_, err := linuxLE.Unmarshal(c.b)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: %T is not a *ParseError", c.name, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not contain %q", c.name, err, c.want)
		}
	}
	// duplicate extension proper: two sadb_sa
	dup := hx(t, `
02 03 00 03  06 00 00 00  00 00 00 00  00 00 00 00
02 00 01 00  00 00 10 00  04 01 03 0c  00 00 00 00
02 00 01 00  00 00 10 00  04 01 03 0c  00 00 00 00
`)
	if _, err := linuxLE.Unmarshal(dup); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("duplicate: %v", err)
	}
}

func TestUnknownExtensionPreserved(t *testing.T) {
	b := hx(t, `
02 09 00 00  05 00 00 00  00 00 00 00  00 00 00 00
02 00 63 00  aa bb cc dd  ee ff 00 11  22 33 44 55  # extension 99 (unknown): 12 data bytes
01 00 1b 00  01 02 03 04                            # 27 is unknown on Linux (FreeBSD new_address_src)
`)
	m, err := linuxLE.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Unknown) != 2 || m.Unknown[0].Type != 99 || len(m.Unknown[0].Data) != 12 || m.Unknown[1].Type != 27 {
		t.Fatalf("unknown = %+v", m.Unknown)
	}
	out, err := linuxLE.Marshal(m)
	if err != nil || string(out) != string(b) {
		t.Fatalf("re-encode: %x %v", out, err)
	}
}

func TestKeyNotPrinted(t *testing.T) {
	k := NewKey([]byte("supersecretkeybytes!"))
	if s := k.String(); strings.Contains(s, "supersecret") || !strings.Contains(s, "160 bits") {
		t.Errorf("key String %q", s)
	}
	e := &SAEntry{Keys: Keys{Auth: []byte("supersecretkeybytes!")}}
	for _, s := range []string{
		fmt.Sprintf("%v %+v %#v %s", *k, *k, *k, k),
		fmt.Sprintf("%v %+v %#v", e.Keys, e.Keys, e.Keys),
		fmt.Sprintf("%v %+v %#v", *e, *e, *e),
		fmt.Sprintf("%v %+v", e, e),
	} {
		if strings.Contains(s, "supersecret") || strings.Contains(s, "7375706572") || strings.Contains(s, "115 117 112") {
			t.Errorf("key bytes printed: %s", s)
		}
	}
	m := addMessage()
	m.Wipe()
	for _, b := range append(m.AuthKey.Data, m.EncKey.Data...) {
		if b != 0 {
			t.Fatal("key not wiped")
		}
	}
}

func TestAlgorithms(t *testing.T) {
	if a, ok := FreeBSD.LookupEnc("aes-gcm-16"); !ok || a.ID != uint8(EncAESGCMICV16) {
		t.Errorf("freebsd aes-gcm-16: %+v %v", a, ok)
	}
	if a, ok := Linux.LookupEnc("AES-CBC"); !ok || a.ID != 12 {
		t.Errorf("linux aes-cbc: %+v %v", a, ok)
	}
	if _, ok := Linux.LookupAuth("tcp-md5"); ok {
		t.Error("linux has no tcp-md5")
	}
	if Linux.EncName(EncTwofishCBC) != "twofish-cbc" || FreeBSD.EncName(EncTwofishCBC) != "" {
		t.Error("twofish is Linux only")
	}
	if FreeBSD.AuthName(AuthAES128GMAC) != "aes128-gmac" || Linux.AuthName(AuthSHA1HMAC) != "hmac-sha1" {
		t.Error("auth names")
	}
}
