package ipsecmod

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ikectx/ikectx/ikev2"
	"github.com/ikectx/ikectx/ikev2/daemon"
	"github.com/ikectx/ikectx/ikev2/msg"
	"github.com/ikectx/ikectx/ipsecmod/ikev2ctx"
	"github.com/ikectx/ikectx/pfkey"
)

// TestIKEv2StateMapping is the golden test of SAState -> ikev2ctx: every
// field the record has, and the fields at their documented offsets.
func TestIKEv2StateMapping(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	sel := func(a, b string) msg.Selector {
		return msg.Selector{TSType: msg.TSIPv6AddrRange, IPProto: 0, StartPort: 0, EndPort: 65535, Start: netip.MustParseAddr(a), End: netip.MustParseAddr(b)}
	}
	st := ikev2.SAState{Name: "mn", Initiator: false, SPIi: 0x0102030405060708, SPIr: 0x1112131415161718, State: "ESTABLISHED",
		Local: netip.MustParseAddrPort("[2001:db8:1::1]:500"), Remote: netip.MustParseAddrPort("[2001:db8:1::10]:500"),
		NATRemote: true, MOBIKE: true, Encr: 12, KeyBits: 128, Integ: 12, PRF: 5, DH: 31, Lifetime: 3 * time.Hour,
		Created: now.Add(-90 * time.Second), NextSendID: 2, NextRecvID: 7,
		LocalID: ikev2.Identity{Type: msg.IDTypeFQDN, Data: []byte("ar.example")}, PeerID: ikev2.Identity{Type: msg.IDTypeRFC822, Data: []byte("mn@example")},
		AuthMethod: msg.AuthMethodSharedKeyMIC,
		Children: []ikev2.ChildState{{Name: "mn", Protocol: msg.ProtoESP, SPIIn: 0xc0000001, SPIOut: 0xc0000002, ReqID: 9, Encr: 20, KeyBits: 128,
			LocalTS: []msg.Selector{sel("2001:db8:9::", "2001:db8:9::ffff")}, RemoteTS: []msg.Selector{sel("2001:db8:1::10", "2001:db8:1::10")},
			Lifetime: time.Hour, Created: now}},
		SKEYSEED: []byte{1}, SKd: []byte{2, 2}, SKai: []byte{3}, SKar: []byte{4}, SKei: []byte{5}, SKer: []byte{6}, SKpi: []byte{7}, SKpr: []byte{8},
		Ni: []byte{9, 9}, Nr: []byte{10}, PSK: []byte("secret")}
	got := CtxFromState(&st, now)
	ts := func(a, b string) ikev2ctx.TrafficSelector {
		return ikev2ctx.TrafficSelector{EndPort: 65535, Start: netip.MustParseAddr(a), End: netip.MustParseAddr(b)}
	}
	want := &ikev2ctx.SA{SPIi: 0x0102030405060708, SPIr: 0x1112131415161718, Responder: true, Flags: ikev2ctx.FlagMOBIKE | ikev2ctx.FlagNATDetected,
		Encr: 12, KeyLength: 128, Integ: 12, PRF: 5, DHGroup: 31, Lifetime: 3 * time.Hour, Age: 90 * time.Second, NextSendID: 2, NextRecvID: 7,
		Local: st.Local, Remote: st.Remote,
		SKEYSEED: ikev2ctx.Secret{1}, SKd: ikev2ctx.Secret{2, 2}, SKai: ikev2ctx.Secret{3}, SKar: ikev2ctx.Secret{4}, SKei: ikev2ctx.Secret{5},
		SKer: ikev2ctx.Secret{6}, SKpi: ikev2ctx.Secret{7}, SKpr: ikev2ctx.Secret{8}, Ni: []byte{9, 9}, Nr: []byte{10},
		PAD: ikev2ctx.PAD{IDType: msg.IDTypeRFC822, ID: []byte("mn@example"), AuthMethod: 2, Secret: ikev2ctx.Secret("secret")},
		// The responder's local TS is the TSr: TSi is the MN's.
		Children: []ikev2ctx.ChildSA{{Proto: 3, Mode: 2, SPIIn: 0xc0000001, SPIOut: 0xc0000002, Encr: 20, KeyLength: 128, Lifetime: time.Hour, ReqID: 9,
			TSi: []ikev2ctx.TrafficSelector{ts("2001:db8:1::10", "2001:db8:1::10")}, TSr: []ikev2ctx.TrafficSelector{ts("2001:db8:9::", "2001:db8:9::ffff")}}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("mapping:\ngot  %+v\nwant %+v", *got, *want)
	}
	b, err := got.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		off  int
		want string
	}{{0, "0501"}, {4, "0102030405060708"}, {12, "1112131415161718"}, {20, "0103"}, {22, "000c0080000c0005001f"},
		{32, "00002a30" + "0000005a" + "00000002" + "00000007"}, {48, "0600" + "01f4" + "20010db8000100000000000000000001"}} {
		if g := hex.EncodeToString(b[f.off : f.off+len(f.want)/2]); g != f.want {
			t.Errorf("offset %d: %s, want %s", f.off, g, f.want)
		}
	}
	if n := int(binary.BigEndian.Uint16(b[2:])); n != len(b) {
		t.Errorf("length %d of %d", n, len(b))
	}
	back, err := ikev2ctx.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	// And back to what iked imports: everything but the name, this end's
	// identity and the children's names.
	rs := StateFromCtx(back, now)
	exp := st
	exp.Name, exp.LocalID, exp.NATRemote = "", ikev2.Identity{}, true
	exp.Children = append([]ikev2.ChildState(nil), st.Children...)
	exp.Children[0].Name, exp.Children[0].Created = "", st.Created
	if !reflect.DeepEqual(rs, exp) {
		t.Fatalf("back:\ngot  %+v\nwant %+v", rs, exp)
	}
	for _, s := range []string{fmt.Sprintf("%v", got), fmt.Sprintf("%#v", got), fmt.Sprintf("%+v", rs)} {
		if strings.Contains(s, "secret") {
			t.Fatalf("key bytes printed: %s", s)
		}
	}
}

const ikedConf = `
[global]
listen = ["%s"]
port = %d
natt_port = %d
socket = "%s"
retransmit_base = "200ms"

[[pad]]
id = "mn@example"
psk = "a-long-test-psk"

[[pad]]
id = "ar@example"
psk = "a-long-test-psk"

[[connection]]
name = "%s"
remote_addr = "%s"
local_id = "%s"
remote_id = "%s"
ike_proposals = ["aes128-sha256-x25519"]
esp_proposals = ["aes128-sha256"]
local_ts = ["%s"]
remote_ts = ["%s"]
mobike = true
`

// startIked runs an iked without a kernel (SAs in memory) on loopback.
func startIked(t *testing.T, listen []string, port int, name, remote, lid, rid, lts, rts string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "iked.sock")
	src := fmt.Sprintf(ikedConf, strings.Join(listen, `", "`), port, port+1, sock, name, remote, lid, rid, lts, rts)
	for _, e := range extra {
		src += e + "\n"
	}
	path := filepath.Join(dir, "iked.toml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := daemon.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(c, daemon.Options{NoKernel: true, Logf: t.Logf})
	if err != nil {
		t.Skipf("cannot listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for i := 0; i < 500; i++ {
		if _, err := daemon.Control(sock, "status"); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("iked: %v", err)
		}
	})
	return sock
}

var (
	ikeSPIRe   = regexp.MustCompile(`spi ([0-9a-f]{16})_i ([0-9a-f]{16})_r`)
	childSPIRe = regexp.MustCompile(`in 0x([0-9a-f]{8}) out 0x([0-9a-f]{8})`)
)

func ctl(t *testing.T, sock string, args ...string) string {
	t.Helper()
	out, err := daemon.Control(sock, args...)
	if err != nil {
		t.Fatalf("iked %v: %v", args, err)
	}
	return out
}

func hexSPI(t *testing.T, s string) uint32 {
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(v)
}

// TestIKEv2TransferMOBIKE: MN <-> pAR established by two iked; the pAR's
// module captures the IKEv2 FPT (and the SA FPT from its SAD, the same
// SPIs), the nAR's pre-installs and activates both for the MN's nCoA: iked
// on the nAR imports the IKE SA and moves it to the nCoA with MOBIKE (one
// round trip); then the MN's child rekey and a liveness check with the nAR
// work on the same IKE SA (no IKE_SA_INIT). With collide, another MN's SA
// on the nAR holds the transferred inbound SPI: it is not installed, and
// UPDATE_SPI in the same request as UPDATE_SA_ADDRESSES changes it.
func TestIKEv2TransferMOBIKE(t *testing.T) {
	for i, tc := range []struct {
		name                    string
		collide, ike, mnIgnores bool
	}{{"none", false, false, false}, {"esp", true, false, false}, {"esp+ike", true, true, false}, {"esp,mn-without-update-spi", true, false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			testIKEv2Transfer(t, 20000+(os.Getpid()+97*i)%20000, tc.collide, tc.ike, tc.mnIgnores)
		})
	}
}

func testIKEv2Transfer(t *testing.T, port int, collide, ikeCollide, mnIgnores bool) {
	pcoa, ncoa := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.3")
	parA, narA := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.4")
	var extra []string
	if mnIgnores {
		// The fallback's IKE_SA_INIT comes from the nAR: the MN needs a
		// connection that accepts any access router.
		extra = append(extra, "update_spi = false", `
[[connection]]
name = "any-ar"
remote_addr = "%any"
local_id = "mn@example"
remote_id = "ar@example"
ike_proposals = ["aes128-sha256-x25519"]
esp_proposals = ["aes128-sha256"]
local_ts = ["10.1.0.0/16"]
remote_ts = ["10.2.0.0/16"]
mobike = true
update_spi = false`)
	}
	mnS := startIked(t, []string{"127.0.0.1", "127.0.0.3"}, port, "home", "127.0.0.2", "mn@example", "ar@example", "10.1.0.0/16", "10.2.0.0/16", extra...)
	parS := startIked(t, []string{"127.0.0.2"}, port, "mn", "127.0.0.1", "ar@example", "mn@example", "10.2.0.0/16", "10.1.0.0/16")
	narS := startIked(t, []string{"127.0.0.4"}, port, "mn", "127.0.0.1", "ar@example", "mn@example", "10.2.0.0/16", "10.1.0.0/16")
	ctl(t, mnS, "initiate", "home")
	sp := ctl(t, parS, "status")
	spis, ch := ikeSPIRe.FindStringSubmatch(sp), childSPIRe.FindStringSubmatch(sp)
	if spis == nil || ch == nil {
		t.Fatalf("pAR:\n%s", sp)
	}
	in, out := hexSPI(t, ch[1]), hexSPI(t, ch[2])

	// The pAR's SAD holds the same children (iked would have installed
	// them with PF_KEY): inbound MN -> pAR, outbound pAR -> MN.
	pk := newFakeKernel()
	pk.sas = []*pfkey.SAEntry{tunnelSA(in, pcoa, parA, 0x11), tunnelSA(out, parA, pcoa, 0x21)}
	parIked := &Iked{Socket: parS}
	pm := newModule(t, pk, parA, func(c *Config) { c.IKEv2 = parIked })
	ikeData, err := pm.Capture(bg, KindIKEv2, pcoa)
	if err != nil {
		t.Fatal(err)
	}
	saData, err := pm.Capture(bg, KindSA, pcoa)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := Unmarshal(ikeData)
	if err != nil || len(c.IKEv2) != 1 || len(c.IKEv2[0].Children) != 1 || c.IKEv2[0].Children[0].SPIIn != in || c.IKEv2[0].Children[0].SPIOut != out {
		t.Fatalf("IKEv2 record: %v %+v", err, c)
	}
	c.Wipe()
	t.Logf("IKEv2 FPT: %d octets, SA FPT: %d octets", len(ikeData), len(saData))

	nk := newFakeKernel()
	otherMN := netip.MustParseAddr("127.0.0.9")
	if collide {
		nk.sas = []*pfkey.SAEntry{tunnelSA(in, otherMN, narA, 0x55)}
	}
	if ikeCollide {
		// Another IKE SA on the nAR (another MN's, same responder SPI).
		js := ctl(t, parS, "export", spis[2])
		var o ikev2.SAState
		if err := json.Unmarshal([]byte(js), &o); err != nil {
			t.Fatal(err)
		}
		o.SPIi ^= 0xffff
		o.Name = "other"
		j, _ := json.Marshal(o)
		if got := ctl(t, narS, "import", "-", "127.0.0.9:"+strconv.Itoa(port), string(j)); strings.Contains(got, "collision") {
			t.Fatal(got)
		}
	}
	narIked := &Iked{Socket: narS, MaxRoundTrips: 3, Timer: 5 * time.Second}
	nm := newModule(t, nk, narA, func(c *Config) { c.IKEv2 = narIked })
	start := time.Now()
	// Predictive mode without a prediction (nCoA unknown at pre-install);
	// the IKEv2 FPT activated first when it collides: the order of
	// cxtpd's activations must not matter.
	order := []Kind{KindSA, KindIKEv2}
	if collide {
		order = []Kind{KindIKEv2, KindSA}
	}
	for _, x := range []struct {
		k Kind
		b []byte
	}{{KindSA, saData}, {KindIKEv2, ikeData}} {
		if err := nm.PreInstall(bg, x.k, pcoa, netip.Addr{}, x.b); err != nil {
			t.Fatal(x.k, err)
		}
	}
	for _, k := range order {
		if err := nm.Activate(bg, k, pcoa, ncoa); err != nil {
			t.Fatal(k, err)
		}
	}
	narIked.Wait()
	elapsed := time.Since(start)
	res := narIked.Outcomes()
	if mnIgnores {
		// The MN moved but ignored UPDATE_SPI: Algorithm 1 gives up at
		// once and the nAR negotiates a new IKE SA with the MN's nCoA.
		if len(res) != 1 || res[0].Err != nil || res[0].RoundTrips != 1 || !res[0].Fallback {
			t.Fatalf("move: %+v", res)
		}
		var sm string
		for i := 0; i < 200; i++ {
			sm = ctl(t, mnS, "status")
			if got := ikeSPIRe.FindAllStringSubmatch(sm, -1); len(got) == 1 && got[0][1] != spis[1] && strings.Contains(sm, "ESTABLISHED responder") {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !strings.Contains(sm, "ESTABLISHED responder") || !strings.Contains(sm, fmt.Sprintf("remote %v:%d", narA, port)) || strings.Contains(sm, spis[1]) {
			t.Fatalf("no new IKE SA nAR -> MN after the fallback:\n%s", sm)
		}
		t.Logf("%v\nMN:\n%s", res[0], sm)
		return
	}
	if len(res) != 1 || res[0].Err != nil || res[0].RoundTrips != 1 || res[0].Fallback {
		t.Fatalf("move: %+v", res)
	}
	t.Logf("%v (pre-install + activation + MOBIKE: %v)", res[0], elapsed)
	if st := nm.Status(); len(st.IKEv2) != 1 || !strings.Contains(st.IKEv2[0], "round trips 1") {
		t.Fatalf("status: %q", st.IKEv2)
	}
	wantUpd := 0
	if collide {
		wantUpd++
	}
	if ikeCollide {
		wantUpd++
	}
	if res[0].Updated != wantUpd {
		t.Fatalf("updated %d SPIs, want %d", res[0].Updated, wantUpd)
	}
	// Who installed what: the module the SA records that do not collide;
	// the other MN's SA untouched.
	if collide {
		if len(nk.sas) != 2 || !hasSA(nk, in, otherMN, narA) || !hasSA(nk, out, narA, ncoa) || hasSA(nk, in, ncoa, narA) {
			t.Fatalf("nAR SAD: %v", nk.sas)
		}
		if st := nm.Status(); st.Stats.Collisions != 1 || st.Stats.Fallbacks != 0 {
			t.Fatalf("status: %+v", st.Stats)
		}
	} else if !hasSA(nk, in, ncoa, narA) || !hasSA(nk, out, narA, ncoa) {
		t.Fatalf("nAR SAD: %v", nk.sas)
	}

	sm, sn := ctl(t, mnS, "status"), ctl(t, narS, "status")
	t.Logf("MN:\n%snAR:\n%s", sm, sn)
	if ikeCollide {
		// The moved SA is the one with the MN's SPIi; its SPIr changed.
		var moved []string
		for _, m := range ikeSPIRe.FindAllStringSubmatch(sn, -1) {
			if m[1] == spis[1] {
				moved = m
			}
		}
		if moved == nil || moved[2] == spis[2] || !strings.Contains(sm, moved[2]) {
			t.Fatalf("IKE SPI not repaired")
		}
		spis = moved
		sn = sn[strings.Index(sn, "mn: ESTABLISHED responder spi "+spis[1]):]
	}
	// The nAR's iked holds the children's keys from the SA records.
	js := ctl(t, narS, "export", ikeSPIRe.FindStringSubmatch(sn)[2])
	var ex ikev2.SAState
	if err := json.Unmarshal([]byte(js), &ex); err != nil || len(ex.Children) != 1 {
		t.Fatal(err, js)
	}
	if k := ex.Children[0]; !bytes.Equal(k.IntegIn, rep(0x11, 20)) || !bytes.Equal(k.EncIn, rep(0x12, 16)) || !bytes.Equal(k.IntegOut, rep(0x21, 20)) || !bytes.Equal(k.EncOut, rep(0x22, 16)) {
		t.Fatal("child keys not handed to iked")
	}
	ex.Wipe()
	if !strings.Contains(sm, fmt.Sprintf("local  %v:%d", ncoa, port)) || !strings.Contains(sm, fmt.Sprintf("remote %v:%d", narA, port)) {
		t.Fatal("the MN's IKE SA did not move to nCoA <-> nAR")
	}
	mc, nc := childSPIRe.FindStringSubmatch(sm), childSPIRe.FindStringSubmatch(sn)
	if mc == nil || nc == nil || mc[1] != nc[2] || mc[2] != nc[1] {
		t.Fatalf("child SPIs differ: MN %v nAR %v", mc, nc)
	}
	if collide == (nc[1] == ch[1]) {
		t.Fatalf("nAR inbound SPI %s (transferred %s, collision %v)", nc[1], ch[1], collide)
	}
	// Liveness both ways and a child rekey by the MN on the moved SA: no
	// new IKE SA.
	ctl(t, narS, "liveness", ikeSPIRe.FindStringSubmatch(sn)[2])
	ctl(t, mnS, "liveness", spis[1])
	ctl(t, mnS, "rekey-child", mc[1])
	sm2 := ctl(t, mnS, "status")
	if got := ikeSPIRe.FindAllStringSubmatch(sm2, -1); len(got) != 1 || got[0][1] != spis[1] || got[0][2] != spis[2] {
		t.Fatalf("after the rekey the MN has:\n%s", sm2)
	}
	if c2 := childSPIRe.FindStringSubmatch(sm2); c2 == nil || c2[1] == mc[1] {
		t.Fatalf("child not rekeyed:\n%s", sm2)
	}
}

// TestIKEv2CaptureNoSA: the pAR's iked has no SA with the MN.
func TestIKEv2CaptureNoSA(t *testing.T) {
	port := 20000 + (os.Getpid()+313)%20000
	s := startIked(t, []string{"127.0.0.2"}, port, "mn", "127.0.0.1", "ar@example", "mn@example", "10.2.0.0/16", "10.1.0.0/16")
	m := newModule(t, newFakeKernel(), netip.MustParseAddr("127.0.0.2"), func(c *Config) { c.IKEv2 = &Iked{Socket: s} })
	_, err := m.Capture(bg, KindIKEv2, netip.MustParseAddr("127.0.0.1"))
	if err == nil || !strings.Contains(err.Error(), "no IKE SA") {
		t.Fatal(err)
	}
}
