package ikev2

import (
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ikectx/ikectx/ikev2/msg"
)

type packet struct {
	b        []byte
	from, to netip.AddrPort
}

// net is an in-memory network between managers keyed by address.
type testNet struct {
	mu    sync.Mutex
	q     []packet
	nodes map[netip.Addr]*Manager
	drop  func(p packet) bool
	sent  int
}

func (n *testNet) send(b []byte, from, to netip.AddrPort) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent++
	n.q = append(n.q, packet{append([]byte(nil), b...), from, to})
}

func (n *testNet) pump(t *testing.T) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		n.mu.Lock()
		if len(n.q) == 0 {
			n.mu.Unlock()
			return
		}
		p := n.q[0]
		n.q = n.q[1:]
		n.mu.Unlock()
		if n.drop != nil && n.drop(p) {
			continue
		}
		if m := n.nodes[p.to.Addr()]; m != nil {
			m.Handle(p.b, p.to, p.from)
		}
	}
	t.Fatal("message storm")
}

var (
	addrMN  = netip.MustParseAddr("fd00:5::1")
	addrAR  = netip.MustParseAddr("fd00:5::2")
	addrMN2 = netip.MustParseAddr("fd00:6::1")
)

func mustProp(t testing.TB, s string, p msg.ProtocolID) msg.Proposal {
	pr, err := ParseProposal(s, p)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

func pair(t *testing.T, ike, esp string) (*testNet, *Manager, *Manager, []Event) {
	idMN, _ := ParseIdentity("mn@example")
	idAR, _ := ParseIdentity("ar.example")
	pad := []PADEntry{{ID: idMN, Method: "psk", PSK: []byte("a-long-test-psk")}, {ID: idAR, Method: "psk", PSK: []byte("a-long-test-psk")}}
	conf := func(name string, l, r Identity, lts, rts string) *Config {
		return &Config{Name: name, LocalID: l, RemoteID: r, IKEProposals: []msg.Proposal{mustProp(t, ike, msg.ProtoIKE)},
			ESPProposals: []msg.Proposal{mustProp(t, esp, msg.ProtoESP)}, LocalTS: []netip.Prefix{netip.MustParsePrefix(lts)},
			RemoteTS: []netip.Prefix{netip.MustParsePrefix(rts)}, MOBIKE: true, UpdateSPI: msg.DefaultUpdateSPI}
	}
	n := &testNet{nodes: map[netip.Addr]*Manager{}}
	mn := NewManager([]*Config{conf("home", idMN, idAR, "fd00:a::/64", "fd00:b::/64")}, pad, NewMemKernel(), n.send)
	ar := NewManager([]*Config{conf("mn", idAR, idMN, "fd00:b::/64", "fd00:a::/64")}, pad, NewMemKernel(), n.send)
	n.nodes[addrMN], n.nodes[addrMN2], n.nodes[addrAR] = mn, mn, ar
	return n, mn, ar, nil
}

func establish(t *testing.T, n *testNet, mn *Manager) *IKESA {
	t.Helper()
	var res error = errors.New("not done")
	sa, err := mn.Initiate("home", netip.AddrPortFrom(addrMN, 500), netip.AddrPortFrom(addrAR, 500), func(err error) { res = err })
	if err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	if res != nil {
		t.Fatalf("initiate: %v", res)
	}
	return sa
}

func checkPair(t *testing.T, mn, ar *Manager, children int) (SAState, SAState) {
	t.Helper()
	a, b := mn.SAs(), ar.SAs()
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("IKE SAs: mn %d ar %d", len(a), len(b))
	}
	x, y := a[0], b[0]
	if x.State != "ESTABLISHED" || y.State != "ESTABLISHED" || x.SPIi != y.SPIi || x.SPIr != y.SPIr {
		t.Fatalf("mn %+v\nar %+v", x, y)
	}
	if len(x.Children) != children || len(y.Children) != children {
		t.Fatalf("children: mn %d ar %d", len(x.Children), len(y.Children))
	}
	for i := range x.Children {
		c, d := x.Children[i], y.Children[i]
		if c.SPIIn != d.SPIOut || c.SPIOut != d.SPIIn {
			t.Fatalf("child SPIs: mn %x/%x ar %x/%x", c.SPIIn, c.SPIOut, d.SPIIn, d.SPIOut)
		}
	}
	lspi := func(s SAState) uint64 {
		if s.Initiator {
			return s.SPIi
		}
		return s.SPIr
	}
	if x.Initiator == y.Initiator {
		t.Fatal("both ends initiators")
	}
	ex, _ := mn.Export(lspi(x))
	ey, _ := ar.Export(lspi(y))
	if string(ex.SKd) != string(ey.SKd) || string(ex.SKei) != string(ey.SKei) || len(ex.SKd) == 0 {
		t.Fatal("IKE keys differ")
	}
	return x, y
}

func childKeysMatch(t *testing.T, mn, ar *Manager) {
	t.Helper()
	mn.mu.Lock()
	ar.mu.Lock()
	defer mn.mu.Unlock()
	defer ar.mu.Unlock()
	for _, a := range mn.sas {
		for _, c := range a.Children {
			_, d := ar.byChild(c.SPIOut)
			if d == nil || string(c.EncOut) != string(d.EncIn) || string(c.IntegOut) != string(d.IntegIn) || string(c.EncIn) != string(d.EncOut) || len(c.EncIn) == 0 {
				t.Fatalf("child keys of %v do not match", c)
			}
		}
	}
}

func TestHandshakeSuites(t *testing.T) {
	for _, s := range []struct{ ike, esp string }{
		{"aes128-sha256-modp2048", "aes128-sha256"},
		{"aes256gcm16-prfsha384-ecp256", "aes256gcm16"},
		{"aes128-sha512-x25519", "aes256-sha384-esn"},
		{"aes256-sha1-modp2048", "aes128-sha1"},
	} {
		t.Run(s.ike, func(t *testing.T) {
			n, mn, ar, _ := pair(t, s.ike, s.esp)
			establish(t, n, mn)
			x, y := checkPair(t, mn, ar, 1)
			if !x.MOBIKE || x.NATLocal || x.NATRemote || !y.MOBIKE || y.NATLocal || y.NATRemote {
				t.Fatalf("%+v\n%+v", x, y)
			}
			childKeysMatch(t, mn, ar)
			if n.sent != 4 {
				t.Fatalf("%d messages", n.sent)
			}
		})
	}
}

func TestRekeysDeleteLiveness(t *testing.T) {
	n, mn, ar, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
	sa := establish(t, n, mn)
	x, _ := checkPair(t, mn, ar, 1)
	var res []error
	done := func(err error) { res = append(res, err) }
	if err := mn.RekeyChild(x.Children[0].SPIIn, done); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	x2, _ := checkPair(t, mn, ar, 1)
	if x2.Children[0].SPIIn == x.Children[0].SPIIn {
		t.Fatal("child not rekeyed")
	}
	childKeysMatch(t, mn, ar)
	// The responder rekeys too.
	y := ar.SAs()[0]
	if err := ar.RekeyChild(y.Children[0].SPIIn, done); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	checkPair(t, mn, ar, 1)
	if err := mn.CreateChild(sa.SPIi, done); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	checkPair(t, mn, ar, 2)
	childKeysMatch(t, mn, ar)
	if err := mn.RekeyIKE(sa.SPIi, done); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	x3, _ := checkPair(t, mn, ar, 2)
	if x3.SPIi == x.SPIi || x3.NextSendID != 0 {
		t.Fatalf("IKE SA not rekeyed: %+v", x3)
	}
	if err := ar.Liveness(ar.SAs()[0].SPIr, done); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	if err := ar.RekeyIKE(ar.SAs()[0].SPIr, done); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	checkPair(t, mn, ar, 2)
	for _, e := range res {
		if e != nil {
			t.Fatal(e)
		}
	}
	if len(res) != 6 {
		t.Fatalf("%d completions", len(res))
	}
	if err := mn.Delete(mn.SAs()[0].SPIr); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	if len(mn.SAs()) != 0 || len(ar.SAs()) != 0 {
		t.Fatal("SAs left after delete")
	}
}

func TestCookieAndRetransmit(t *testing.T) {
	n, mn, ar, _ := pair(t, "aes128-sha256-ecp256", "aes128gcm16")
	ar.CookieThreshold = 1
	ar.mu.Lock()
	ar.init()
	ar.halfOpen[halfKey{1, netip.AddrPortFrom(addrMN2, 500)}] = &IKESA{Conf: ar.Conns[0], Created: time.Now()}
	ar.mu.Unlock()
	now := time.Unix(1000, 0)
	mn.Now = func() time.Time { return now }
	dropped := 0
	n.drop = func(p packet) bool {
		// lose the first IKE_AUTH request
		if p.to.Addr() == addrAR && len(p.b) > 18 && msg.ExchangeType(p.b[18]) == msg.IKE_AUTH && dropped == 0 {
			dropped++
			return true
		}
		return false
	}
	var res error = errors.New("pending")
	_, err := mn.Initiate("home", netip.AddrPortFrom(addrMN, 500), netip.AddrPortFrom(addrAR, 500), func(err error) { res = err })
	if err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	if res == nil || dropped != 1 {
		t.Fatal("IKE_AUTH should be outstanding")
	}
	now = now.Add(2 * time.Second)
	mn.Tick()
	n.pump(t)
	if res != nil {
		t.Fatal(res)
	}
	// COOKIE round trip + INIT + AUTH lost + AUTH again
	if n.sent != 2+2+1+2 {
		t.Fatalf("%d messages", n.sent)
	}
	checkPair(t, mn, ar, 1)
}

func TestAuthFailure(t *testing.T) {
	n, mn, ar, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
	ar.PAD[0].PSK = []byte("another-psk")
	var res error
	mn.Initiate("home", netip.AddrPortFrom(addrMN, 500), netip.AddrPortFrom(addrAR, 500), func(err error) { res = err })
	n.pump(t)
	var ee *ExchangeError
	if !errors.As(res, &ee) || ee.Notify != msg.AUTHENTICATION_FAILED {
		t.Fatalf("%v", res)
	}
	if len(mn.SAs()) != 0 || len(ar.SAs()) != 0 {
		t.Fatal("SAs left")
	}
}

func TestInvalidKE(t *testing.T) {
	n, mn, ar, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
	// The initiator offers two groups and guesses the one the responder
	// does not take.
	mn.Conns[0].IKEProposals = []msg.Proposal{mustProp(t, "aes128-sha256-modp2048", msg.ProtoIKE), mustProp(t, "aes128-sha256-x25519", msg.ProtoIKE)}
	establish(t, n, mn)
	checkPair(t, mn, ar, 1)
	if n.sent != 6 {
		t.Fatalf("%d messages", n.sent)
	}
}

func TestMOBIKEAndUpdateSPI(t *testing.T) {
	n, mn, ar, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
	sa := establish(t, n, mn)
	checkPair(t, mn, ar, 1)
	var res []error
	done := func(err error) { res = append(res, err) }
	// The initiator moves (RFC 4555).
	if err := mn.Move(sa.SPIi, netip.AddrPortFrom(addrMN2, 500), netip.AddrPort{}, nil, done); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	_, y := checkPair(t, mn, ar, 1)
	if y.Remote.Addr() != addrMN2 || len(res) != 1 || res[0] != nil {
		t.Fatalf("responder's peer %v %v", y.Remote, res)
	}
	// The responder moves the tunnel back and repairs two SPIs in the same
	// request (the paper's section 3.2.4): its own inbound SPI (D=1) and
	// the IKE SPI.
	y0 := y.Children[0]
	newIn := uint32(0x0c0ffee0)
	newIKE := uint64(0x1122334455667788)
	ups := []msg.UpdateSPI{
		{Protocol: msg.ProtoESP, SPI: spiBytes(y0.SPIIn), NewSPI: spiBytes(newIn), Responder: true},
		{Protocol: msg.ProtoIKE, SPI: u64(y.SPIr), NewSPI: u64(newIKE), Responder: true},
	}
	if err := ar.Move(y.SPIr, netip.AddrPort{}, netip.AddrPortFrom(addrMN, 500), ups, done); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	x, y := checkPair(t, mn, ar, 1)
	if len(res) != 2 || res[1] != nil {
		t.Fatalf("%v", res)
	}
	if x.Remote.Addr() != addrAR || y.Remote.Addr() != addrMN || x.Local.Addr() != addrMN {
		t.Fatalf("addresses %v %v", x.Remote, y.Remote)
	}
	if y.Children[0].SPIIn != newIn || x.SPIr != newIKE {
		t.Fatalf("SPIs not updated: %x %x", y.Children[0].SPIIn, x.SPIr)
	}
	// The SA still works under the new SPIs.
	if err := mn.Liveness(x.SPIi, done); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	if err := ar.RekeyChild(newIn, done); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	checkPair(t, mn, ar, 1)
	// A peer without the extension ignores UPDATE_SPI: the sender sees no
	// acknowledgement.
	mn.Conns[0].UpdateSPI = 0
	y = ar.SAs()[0]
	err := ar.Move(y.SPIr, netip.AddrPort{}, netip.AddrPort{}, []msg.UpdateSPI{{Protocol: msg.ProtoESP, SPI: spiBytes(y.Children[0].SPIIn), NewSPI: spiBytes(0x0d00d000), Responder: true}}, done)
	if err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	last := res[len(res)-1]
	if !errors.Is(last, ErrUpdateSPIIgnored) || !strings.Contains(last.Error(), "ESP") {
		t.Fatalf("%v", last)
	}
	checkPair(t, mn, ar, 1)
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (56 - 8*i))
	}
	return b
}

func TestProposalParsing(t *testing.T) {
	if p := mustProp(t, "aes128-sha1-ecp256", msg.ProtoIKE); ProposalString(p) != "aes128-sha1-prfsha1-ecp256" {
		t.Fatal(ProposalString(p))
	}
	for _, bad := range []string{"aes128", "aes128-sha256", "aes999-sha256-modp2048", "aes128-md5-modp2048"} {
		if _, err := ParseProposal(bad, msg.ProtoIKE); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	p := mustProp(t, "aes128gcm16-prfsha256-ecp256", msg.ProtoIKE)
	if ProposalString(p) != "aes128gcm16-prfsha256-ecp256" {
		t.Fatal(ProposalString(p))
	}
	e := mustProp(t, "aes256-sha512-modp2048", msg.ProtoESP)
	if ProposalString(e) != "aes256-sha512-modp2048" || proposalDH(e) != msg.DH_MODP2048 {
		t.Fatal(ProposalString(e))
	}
}

func BenchmarkHandshake(b *testing.B) {
	for _, g := range []string{"modp2048", "ecp256", "x25519"} {
		b.Run(g, func(b *testing.B) {
			t := &testing.T{}
			for i := 0; i < b.N; i++ {
				n, mn, _, _ := pair(t, "aes128-sha256-"+g, "aes128-sha256")
				var res error = errors.New("pending")
				mn.Initiate("home", netip.AddrPortFrom(addrMN, 500), netip.AddrPortFrom(addrAR, 500), func(err error) { res = err })
				for len(n.q) > 0 {
					p := n.q[0]
					n.q = n.q[1:]
					n.nodes[p.to.Addr()].Handle(p.b, p.to, p.from)
				}
				if res != nil {
					b.Fatal(res)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
		})
	}
}

var addrNAR = netip.MustParseAddr("fd00:7::2")

// transferSetup establishes MN<->pAR, exports the pAR's SA and imports it
// into a new nAR whose state collides with it.
func transferSetup(t *testing.T, collideIKE bool, collideESP bool) (*testNet, *Manager, *Manager, uint64, []uint32) {
	n, mn, par, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
	establish(t, n, mn)
	y := par.SAs()[0]
	st, err := par.Export(y.SPIr)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Wipe()
	k := NewMemKernel()
	nar := NewManager(nil, nil, k, n.send)
	n.nodes[addrNAR] = nar
	var esp []uint32
	if collideIKE {
		nar.mu.Lock()
		nar.init()
		nar.register(&IKESA{Conf: &Config{Name: "other-mn"}, SPIi: 42, SPIr: y.SPIr, State: StateEstablished}, y.SPIr)
		nar.mu.Unlock()
	}
	if collideESP {
		esp = []uint32{y.Children[0].SPIIn}
		k.Reserve(y.Children[0].SPIIn, "another MN's SA")
	}
	key, err := nar.Import(st, netip.AddrPortFrom(addrNAR, 500), netip.AddrPort{})
	if collideIKE != errors.Is(err, ErrSPICollision) {
		t.Fatalf("import: %v", err)
	}
	return n, mn, nar, key, esp
}

func TestTransferAndAlgorithm1(t *testing.T) {
	n, mn, nar, key, esp := transferSetup(t, true, true)
	var res *RepairResult
	remaining := append([]uint32(nil), esp...)
	opt := RepairOptions{Local: netip.AddrPortFrom(addrNAR, 500), Remote: netip.AddrPortFrom(addrMN, 500),
		Collisions: func(s SAState) ([]uint32, bool) {
			var out []uint32
			for _, c := range s.Children {
				for _, r := range remaining {
					if c.SPIIn == r {
						out = append(out, r)
					}
				}
			}
			return out, s.SPIr == 0 || func() bool {
				nar.mu.Unlock()
				defer nar.mu.Lock()
				for _, o := range nar.SAs() {
					if o.Name == "other-mn" && o.SPIr == s.SPIr {
						return true
					}
				}
				return false
			}()
		}}
	if err := nar.RepairSPIs(key, opt, func(r RepairResult) { res = &r }); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	if res == nil || res.Err != nil || res.Fallback || res.RoundTrips != 1 || res.Updated != 2 {
		t.Fatalf("%+v", res)
	}
	x := mn.SAs()[0]
	var z SAState
	for _, s := range nar.SAs() {
		if s.Name != "other-mn" {
			z = s
		}
	}
	if x.Remote.Addr() != addrNAR || z.Remote.Addr() != addrMN || x.SPIr != z.SPIr || x.Children[0].SPIOut != z.Children[0].SPIIn || z.Children[0].SPIIn == esp[0] {
		t.Fatalf("MN %+v\nnAR %+v", x, z)
	}
	// The moved SA works: liveness from the MN and a child rekey by the nAR.
	var errs []error
	if err := mn.Liveness(x.SPIi, func(err error) { errs = append(errs, err) }); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	if err := nar.RekeyChild(z.Children[0].SPIIn, func(err error) { errs = append(errs, err) }); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	if len(errs) != 2 || errs[0] != nil || errs[1] != nil {
		t.Fatalf("%v", errs)
	}
}

func TestAlgorithm1FallbackWhenUpdateSPIIgnored(t *testing.T) {
	n, mn, nar, key, esp := transferSetup(t, false, true)
	mn.Conns[0].UpdateSPI = 0 // a peer without the extension (strongSwan)
	var res *RepairResult
	opt := RepairOptions{Local: netip.AddrPortFrom(addrNAR, 500), Remote: netip.AddrPortFrom(addrMN, 500),
		Collisions: func(s SAState) ([]uint32, bool) {
			if len(s.Children) > 0 && s.Children[0].SPIIn == esp[0] {
				return esp, false
			}
			return nil, false
		}}
	if err := nar.RepairSPIs(key, opt, func(r RepairResult) { res = &r }); err != nil {
		t.Fatal(err)
	}
	n.pump(t)
	if res == nil || res.Err != nil || !res.Fallback || res.RoundTrips != 1 {
		t.Fatalf("%+v", res)
	}
	// A fresh IKE SA, initiated by the nAR, replaced the transferred one.
	a, b := mn.SAs(), nar.SAs()
	if len(a) != 1 || len(b) != 1 || a[0].Initiator || !b[0].Initiator || a[0].SPIi != b[0].SPIi || len(a[0].Children) != 1 || a[0].Children[0].SPIOut != b[0].Children[0].SPIIn {
		t.Fatalf("MN %+v\nnAR %+v", a, b)
	}
}

func TestLifetimeRekeys(t *testing.T) {
	n, mn, ar, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
	now := time.Unix(5000, 0)
	clock := func() time.Time { return now }
	mn.Now, ar.Now = clock, clock
	mn.Conns[0].ChildLifetime, ar.Conns[0].ChildLifetime = time.Hour, time.Hour
	mn.Conns[0].IKELifetime, ar.Conns[0].IKELifetime = 4*time.Hour, 4*time.Hour
	establish(t, n, mn)
	x, _ := checkPair(t, mn, ar, 1)
	now = now.Add(55 * time.Minute)
	mn.Tick()
	ar.Tick()
	n.pump(t)
	x2, _ := checkPair(t, mn, ar, 1)
	if x2.Children[0].SPIIn == x.Children[0].SPIIn {
		t.Fatal("child not rekeyed at 9/10 of its lifetime")
	}
	for i := 0; i < 34; i++ { // to 3h45m, in steps of 5 minutes
		now = now.Add(5 * time.Minute)
		mn.Tick()
		ar.Tick()
		n.pump(t)
	}
	x3, _ := checkPair(t, mn, ar, 1)
	if x3.SPIi == x.SPIi {
		t.Fatal("IKE SA not rekeyed")
	}
}

// FuzzResponder feeds arbitrary datagrams to a responder: no panic, and
// nothing but well-formed answers.
func FuzzResponder(f *testing.F) {
	n, mn, _, _ := pair(&testing.T{}, "aes128-sha256-x25519", "aes128-sha256")
	mn.Initiate("home", netip.AddrPortFrom(addrMN, 500), netip.AddrPortFrom(addrAR, 500), nil)
	for _, p := range n.q {
		f.Add(p.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var out [][]byte
		_, _, ar, _ := pair(&testing.T{}, "aes128-sha256-x25519", "aes128-sha256")
		ar.CookieThreshold = 0
		ar.Send = func(b []byte, _, _ netip.AddrPort) { out = append(out, append([]byte(nil), b...)) }
		ar.Handle(b, netip.AddrPortFrom(addrAR, 500), netip.AddrPortFrom(addrMN, 500))
		ar.Tick()
		for _, o := range out {
			if _, err := msg.Parse(o); err != nil {
				t.Fatalf("answer does not parse: %v", err)
			}
		}
	})
}
