package ipsecmod

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ikectx/ikectx/cxtp"
	"github.com/ikectx/ikectx/ipsecmod/ikev2ctx"
	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
)

// unhex reads hex written by hand from the documented layouts; spaces,
// newlines and "|" separators are ignored, "#" starts a comment.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	var sb strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		sb.WriteString(strings.NewReplacer(" ", "", "|", "", "\t", "").Replace(line))
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rep(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

var (
	mnOld = netip.MustParseAddr("2001:db8:1::10")
	mnNew = netip.MustParseAddr("2001:db8:2::10")
	par   = netip.MustParseAddr("2001:db8:1::1")
	nar   = netip.MustParseAddr("2001:db8:2::1")
	ha    = netip.MustParseAddr("2001:db8:3::1")
)

func goldenSA() *SA {
	return &SA{Dialect: pfkey.Linux, Age: 5 * time.Second, Entry: &pfkey.SAEntry{
		Type: pfkey.SATypeESP, SPI: 0x1000, Src: mnOld, Dst: par, Proto: pfkey.ProtoAny,
		Mode: pfkey.ModeTunnel, ReqID: 7, Replay: 32, State: 1,
		Auth: pfkey.AuthSHA1HMAC, Enc: pfkey.EncAESCBC,
		Keys:    pfkey.Keys{Auth: rep(0xa1, 20), AuthBits: 160, Enc: rep(0xb1, 16), EncBits: 128},
		Current: pfkey.Lifetime{Bytes: 1000},
		Hard:    &pfkey.Lifetime{AddTime: 3600},
	}}
}

const goldenSAHex = `
02 01 00b4                 # SA record, version 1, 180 octets
01 03 02 01                # dialect linux, ESP, tunnel, state mature
00001000                   # SPI
00000007                   # reqid
00000000                   # flags
20 ff 03 0c                # replay 32, proto any, hmac-sha1, aes-cbc
00000000                   # replay window over 255
00000000                   # sequence
00a0 0080                  # key bits
0014 0010                  # key octets
01 000000                  # hard lifetime present
00000000                   # current allocations
00000000000003e8           # current bytes
0000000000000005           # age
0000000000000000           # since use
06 00 0000 20010db8000100000000000000000010   # source
06 00 0000 20010db8000100000000000000000001   # destination
00000000 00000000 0000000000000000 0000000000000e10 0000000000000000  # hard
a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1   # auth key
b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1           # enc key
`

func goldenPolicy() *pfkey.PolicyEntry {
	return &pfkey.PolicyEntry{
		Src: netip.PrefixFrom(mnOld, 128), Dst: netip.PrefixFrom(ha, 128), Proto: pfkey.ProtoAny,
		Dir: pfkey.DirOutbound, Type: pfkey.PolicyIPsec, Priority: 0x80000000,
		Requests: []pfkey.IPSecRequest{{Proto: pfkey.ProtoESP, Mode: pfkey.ModeTunnel, Level: pfkey.LevelRequire,
			Src: netip.AddrPortFrom(mnOld, 0), Dst: netip.AddrPortFrom(par, 0)}},
	}
}

const goldenPolicyHex = `
03 01 0070                 # policy record, version 1, 112 octets
02 ff 0002                 # out, any protocol, ipsec
80000000                   # priority
00000000                   # id
80 80 00 01                # /128 /128, scope 0, 1 request
00 000000                  # no lifetimes
06 00 0000 20010db8000100000000000000000010   # source selector
06 00 0000 20010db8000300000000000000000001   # destination selector
32 02 02 00 00000000       # esp tunnel require, reqid 0
06 00 0000 20010db8000100000000000000000010   # tunnel source
06 00 0000 20010db8000100000000000000000001   # tunnel destination
`

const goldenHeaderHex = `
01 01 0038                 # header record, version 1, 56 octets
0001 0000                  # 1 record follows
0000000065000000           # captured (Unix seconds)
06 00 0000 20010db8000100000000000000000010   # MN
06 00 0000 20010db8000100000000000000000001   # AR
`

func TestGoldenSA(t *testing.T) {
	want := unhex(t, goldenSAHex)
	got, err := AppendSA(nil, goldenSA())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding\n got %x\nwant %x", got, want)
	}
	s, err := ParseSA(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, goldenSA()) {
		t.Fatalf("decoded %+v %+v", s, s.Entry)
	}
}

func TestGoldenPolicy(t *testing.T) {
	want := unhex(t, goldenPolicyHex)
	got, err := AppendPolicy(nil, goldenPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding\n got %x\nwant %x", got, want)
	}
	p, err := ParsePolicy(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, goldenPolicy()) {
		t.Fatalf("decoded %v", p)
	}
}

func TestGoldenContext(t *testing.T) {
	c := &Context{Header: Header{MN: mnOld, AR: par, Captured: time.Unix(0x65000000, 0)},
		Policies: []*pfkey.PolicyEntry{goldenPolicy()}}
	want := append(unhex(t, goldenHeaderHex), unhex(t, goldenPolicyHex)...)
	got, err := c.Marshal(KindSP)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding\n got %x\nwant %x", got, want)
	}
	d, k, err := Unmarshal(want)
	if err != nil || k != KindSP {
		t.Fatal(k, err)
	}
	c.Count = 1
	if !reflect.DeepEqual(d, c) {
		t.Fatalf("decoded %v", d)
	}
}

func goldenIKEv2() *ikev2ctx.SA {
	return &ikev2ctx.SA{
		SPIi: 1, SPIr: 2, Responder: true, Flags: ikev2ctx.FlagMOBIKE,
		Encr: 12, KeyLength: 128, Integ: 2, PRF: 2, DHGroup: 14,
		Lifetime: time.Hour, Age: 10 * time.Second, NextSendID: 3, NextRecvID: 4,
		Local: netip.AddrPortFrom(par, 500), Remote: netip.AddrPortFrom(mnOld, 500),
		SKd: ikev2ctx.Secret{1, 2}, Ni: []byte{0xaa}, Nr: []byte{0xbb},
		PAD: ikev2ctx.PAD{IDType: 2, ID: []byte("mn"), AuthMethod: 2, Secret: ikev2ctx.Secret("k")},
		Children: []ikev2ctx.ChildSA{{Proto: 3, Mode: 2, SPIIn: 0x1000, SPIOut: 0x2000, Encr: 12, KeyLength: 128,
			Integ: 12, Lifetime: 30 * time.Minute, ReqID: 5,
			TSi: []ikev2ctx.TrafficSelector{{EndPort: 0xffff, Start: mnOld, End: mnOld}},
			TSr: []ikev2ctx.TrafficSelector{{EndPort: 0xffff, Start: netip.MustParseAddr("2001:db8:3::"), End: netip.MustParseAddr("2001:db8:3::ffff")}},
		}},
	}
}

const goldenIKEv2Hex = `
05 01 00ec                 # IKEv2 record, version 1, 236 octets
0000000000000001 0000000000000002   # SPIi SPIr
01 01                      # responder, MOBIKE
000c 0080 0002 0002 000e   # ENCR_AES_CBC 128, AUTH_HMAC_SHA1_96, PRF_HMAC_SHA1, MODP 2048
00000e10 0000000a          # lifetime 3600, age 10
00000003 00000004          # message IDs
06 00 01f4 20010db8000100000000000000000001   # local
06 00 01f4 20010db8000100000000000000000010   # remote
0000                       # SKEYSEED (derived keys carried)
0002 0102                  # SK_d
0000 0000 0000 0000 0000 0000   # SK_ai ar ei er pi pr
0001 aa  0001 bb           # Ni Nr
02 02                      # PAD: FQDN, shared key MIC
0002 6d6e  0001 6b  0000   # identity "mn", secret "k", no certificate
01                         # one child
03 02 00 01 01 000000      # ESP tunnel, no ESN, 1 TSi, 1 TSr
00001000 00002000          # SPIs in, out
000c 0080 000c 0000        # encr, key length, integ, reserved
00000708 00000005          # lifetime 1800, reqid 5
00 00 0000 ffff 06 00 20010db8000100000000000000000010 20010db8000100000000000000000010
00 00 0000 ffff 06 00 20010db8000300000000000000000000 20010db800030000000000000000ffff
`

func TestGoldenIKEv2(t *testing.T) {
	want := unhex(t, goldenIKEv2Hex)
	got, err := AppendIKEv2(nil, goldenIKEv2())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding\n got %x\nwant %x", got, want)
	}
	sa, err := ParseIKEv2(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sa, goldenIKEv2()) {
		t.Fatalf("decoded %#v", sa)
	}
	// Keys never print.
	for _, s := range []string{fmt.Sprintf("%v", sa), fmt.Sprintf("%+v", *sa), fmt.Sprintf("%#v", sa)} {
		if strings.Contains(s, "6b") && strings.Contains(s, "[1 2]") {
			t.Fatalf("keys printed: %s", s)
		}
	}
}

func testPhase1() *admin.Phase1Context {
	return &admin.Phase1Context{
		Index:   admin.Index{I: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, R: [8]byte{9, 10, 11, 12, 13, 14, 15, 16}},
		Version: 0x10, ExchangeType: 2, EncAlg: 7, KeyLength: 128, HashAlg: 2, AuthMethod: 1, DHGroup: 2,
		Lifetime: time.Hour, Created: time.Unix(0x65000000, 0),
		Local: netip.AddrPortFrom(par, 500), Remote: netip.AddrPortFrom(mnOld, 500),
		LocalID:  admin.Identity{Type: 5, Data: par.AsSlice()},
		RemoteID: admin.Identity{Type: 5, Data: mnOld.AsSlice()},
		NonceI:   rep(1, 16), NonceR: rep(2, 16),
		SKEYIDd: rep(3, 20), SKEYIDa: rep(4, 20), SKEYIDe: rep(5, 20), EncKey: rep(6, 16), IV: rep(7, 16),
		RemoteName: "anonymous",
	}
}

func TestIKEv1Record(t *testing.T) {
	pc := testPhase1()
	body, err := pc.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := AppendIKEv1(nil, pc)
	if err != nil {
		t.Fatal(err)
	}
	n := len(body) + 4
	want := append([]byte{4, 1, byte(n >> 8), byte(n)}, body...)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x\nwant %x", got, want)
	}
	back, err := ParseIKEv1(got)
	if err != nil {
		t.Fatal(err)
	}
	if back.Index != pc.Index || !bytes.Equal(back.SKEYIDd, pc.SKEYIDd) || back.Remote != pc.Remote {
		t.Fatalf("round trip: %v", back)
	}
}

func fullContext() *Context {
	c := &Context{Header: Header{MN: mnOld, AR: par, Captured: time.Unix(1700000000, 0)}}
	for i := range 3 {
		s := goldenSA()
		s.Entry.SPI += uint32(i)
		s.Entry.NATT = &pfkey.NATT{Type: 2, SPort: 4500, DPort: 4500, OAI: mnOld}
		s.Entry.Soft = &pfkey.Lifetime{AddTime: 3000, Bytes: 1 << 20}
		c.SAs = append(c.SAs, s)
	}
	p := goldenPolicy()
	in := goldenPolicy()
	in.Dir, in.Src, in.Dst = pfkey.DirInbound, in.Dst, in.Src
	in.Requests[0].Src, in.Requests[0].Dst = in.Requests[0].Dst, in.Requests[0].Src
	in.Hard = &pfkey.Lifetime{AddTime: 100}
	c.Policies = []*pfkey.PolicyEntry{p, in}
	c.IKEv1 = []*admin.Phase1Context{testPhase1()}
	c.IKEv2 = []*ikev2ctx.SA{goldenIKEv2()}
	return c
}

func TestRoundTripAllKinds(t *testing.T) {
	c := fullContext()
	for k := KindSA; k < numKinds; k++ {
		b, err := c.Marshal(k)
		if err != nil {
			t.Fatal(k, err)
		}
		d, got, err := Unmarshal(b)
		if err != nil || got != k {
			t.Fatal(k, got, err)
		}
		if d.count(k) != c.count(k) || d.MN != c.MN || d.AR != c.AR || !d.Captured.Equal(c.Captured) {
			t.Fatalf("%v: %v", k, d)
		}
		b2, err := d.Marshal(k)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("%v: re-encoding differs: %v", k, err)
		}
	}
}

func TestCDBsOnePerRecord(t *testing.T) {
	c := fullContext()
	f := DefaultFPTs()
	cdbs, err := c.CDBs(f)
	if err != nil {
		t.Fatal(err)
	}
	// 3 SAs + 2 policies + 1 + 1 IKE SAs: one block each.
	if len(cdbs) != 7 {
		t.Fatalf("%d CDBs", len(cdbs))
	}
	for _, b := range cdbs {
		if b.WireLen() > cxtp.MaxCDBLen {
			t.Fatalf("CDB of %d octets", b.WireLen())
		}
	}
	// Through the wire encoding (padding included) and back.
	wireBytes, err := cxtp.AppendCDBs(nil, cdbs)
	if err != nil {
		t.Fatal(err)
	}
	var back []cxtp.CDB
	for rest := wireBytes; len(rest) > 0; {
		d, n, err := cxtp.DecodeCDB(rest)
		if err != nil {
			t.Fatal(err)
		}
		back = append(back, d)
		rest = rest[n:]
	}
	d, err := FromCDBs(f, back)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.SAs) != 3 || len(d.Policies) != 2 || len(d.IKEv1) != 1 || len(d.IKEv2) != 1 {
		t.Fatal(d)
	}
	if !bytes.Equal(d.SAs[2].Entry.Keys.Enc, c.SAs[2].Entry.Keys.Enc) || d.SAs[2].Entry.NATT.OAI != mnOld {
		t.Fatal("SA 2 differs")
	}
}

func TestCDBsSplitLargeRecord(t *testing.T) {
	c := fullContext()
	c.SAs, c.Policies, c.IKEv1 = nil, nil, nil
	c.IKEv2[0].PAD.Cert = rep(0xcc, 3000) // larger than one block
	cdbs, err := c.CDBs(DefaultFPTs())
	if err != nil {
		t.Fatal(err)
	}
	if len(cdbs) != 2 {
		t.Fatalf("%d CDBs", len(cdbs))
	}
	d, err := FromCDBs(DefaultFPTs(), cdbs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.IKEv2[0].PAD.Cert, c.IKEv2[0].PAD.Cert) {
		t.Fatal("certificate differs")
	}
}

func TestDecodeErrors(t *testing.T) {
	sa := unhex(t, goldenSAHex)
	hdr := unhex(t, goldenHeaderHex)
	pol := unhex(t, goldenPolicyHex)
	mut := func(b []byte, i int, v byte) []byte { c := bytes.Clone(b); c[i] = v; return c }
	cases := []struct {
		name string
		f    func() error
		want string
	}{
		{"sa short", func() error { _, err := ParseSA(sa[:50]); return err }, "length field 180"},
		{"sa version", func() error { _, err := ParseSA(mut(sa, 1, 2)); return err }, "version 2"},
		{"sa dialect", func() error { _, err := ParseSA(mut(sa, 4, 9)); return err }, "unknown dialect 9"},
		{"sa family", func() error { _, err := ParseSA(mut(sa, 72, 5)); return err }, "unknown address family 5"},
		{"sa key length", func() error { _, err := ParseSA(mut(sa, 37, 0x15)); return err }, "truncated"},
		{"sa option bits", func() error { _, err := ParseSA(mut(sa, 40, 0x81)); return err }, "unknown bits"},
		{"policy prefix", func() error { _, err := ParsePolicy(mut(pol, 16, 200)); return err }, "bad prefix"},
		{"policy trailing", func() error { _, err := ParsePolicy(append(mut(pol, 3, 0x71), 1)); return err }, "after the last field"},
		{"context count", func() error { _, _, err := Unmarshal(append(mut(hdr, 5, 2), pol...)); return err }, "counts 2 records, found 1"},
		{"context no header", func() error { _, _, err := Unmarshal(pol); return err }, "header"},
		{"context mixed", func() error {
			h := mut(hdr, 5, 2)
			_, _, err := Unmarshal(append(append(h, pol...), sa...))
			return err
		}, "among"},
		{"context padding", func() error { _, _, err := Unmarshal(append(append(hdr, rep(0, 8)...), pol...)); return err }, "zero octets"},
		{"header dialect", func() error { _, _, err := Unmarshal(append(mut(hdr, 6, 9), pol...)); return err }, "unknown dialect 9"},
		{"header reserved", func() error { _, _, err := Unmarshal(append(mut(hdr, 7, 1), pol...)); return err }, "reserved"},
		{"context bad type", func() error { _, _, err := Unmarshal(append(hdr, 9, 1, 0, 4)); return err }, "unknown type 9"},
	}
	for _, c := range cases {
		err := c.f()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
	if c, _, err := Unmarshal(append(mut(hdr, 6, 2), pol...)); err != nil || c.Dialect != pfkey.FreeBSD {
		t.Fatal("header dialect 2", err)
	}
	// Up to 7 zero octets between records are CDB padding.
	if _, _, err := Unmarshal(append(append(bytes.Clone(hdr), rep(0, 7)...), pol...)); err != nil {
		t.Fatal(err)
	}
}

func TestSecretsNotPrinted(t *testing.T) {
	c := fullContext()
	s := fmt.Sprintf("%v %+v %v %v", c, c.SAs[0], c.SAs[0].Entry, c.IKEv1[0])
	for _, key := range []string{"a1a1a1", "b1b1b1", "161,161,161", "177 177"} {
		if strings.Contains(s, key) {
			t.Fatalf("key bytes in %q", s)
		}
	}
	c.Wipe()
	if !bytes.Equal(c.SAs[0].Entry.Keys.Auth, make([]byte, 20)) || c.IKEv1[0].SKEYIDd[0] != 0 || c.IKEv2[0].SKd[0] != 0 {
		t.Fatal("not wiped")
	}
}

func TestInstallEntryTranslatesAndShortens(t *testing.T) {
	s := goldenSA()
	s.Age = 600 * time.Second
	s.Entry.Hard.Bytes = 500
	s.Entry.Current.Bytes = 1000
	rw := addrMap(mnOld, mnNew, par, nar)
	e, err := installEntry(s, pfkey.FreeBSD, rw)
	if err != nil {
		t.Fatal(err)
	}
	if e.Src != mnNew || e.Dst != nar || e.Hard.AddTime != 3000 || e.Hard.Bytes != 1 {
		t.Fatalf("%v hard %+v", e, e.Hard)
	}
	if pfkey.FreeBSD.EncName(e.Enc) != pfkey.Linux.EncName(s.Entry.Enc) {
		t.Fatal("enc not translated")
	}
	if !bytes.Equal(e.Keys.Auth, s.Entry.Keys.Auth) || &e.Keys.Auth[0] == &s.Entry.Keys.Auth[0] {
		t.Fatal("keys must be a copy")
	}
}

func TestSoftBelowHard(t *testing.T) {
	s := goldenSA() // hard add time only: Linux rejects that
	e, err := installEntry(s, pfkey.Linux, func(a netip.Addr) netip.Addr { return a })
	if err != nil {
		t.Fatal(err)
	}
	if e.Soft == nil || e.Soft.AddTime != e.Hard.AddTime || e.Soft.Bytes != 0 {
		t.Fatalf("soft %+v hard %+v", e.Soft, e.Hard)
	}
	s.Entry.Soft = &pfkey.Lifetime{AddTime: 100, Bytes: 7}
	e, _ = installEntry(s, pfkey.Linux, func(a netip.Addr) netip.Addr { return a })
	if e.Soft.AddTime != 95 || e.Soft.Bytes != 1 { // 1000 bytes already counted
		t.Fatalf("soft %+v", e.Soft)
	}
}
