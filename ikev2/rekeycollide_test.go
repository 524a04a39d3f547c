package ikev2

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/ikectx/ikectx/ikev2/msg"
)

// Exchange collisions with two Managers whose requests cross in the test
// network: both ends start their exchange before either sees the other's
// request. The nonces are chosen so that each end wins in turn.

// nonceList makes m draw the given nonces, then random ones.
func nonceList(m *Manager, ns ...[]byte) {
	m.nonces = func() []byte {
		if len(ns) == 0 {
			return nonce()
		}
		n := ns[0]
		ns = ns[1:]
		return n
	}
}

// nonceOf is a 32-octet nonce starting with b.
func nonceOf(b byte) []byte { return append([]byte{b}, bytes.Repeat([]byte{0x55}, 31)...) }

// deliverFirst hands the first queued packet to node `to` that is a request
// (or response) of exchange ex to its receiver, out of the queue's order.
func (n *testNet) deliverFirst(t *testing.T, to netip.Addr, response bool, ex msg.ExchangeType) {
	t.Helper()
	for i, p := range n.q {
		if p.to.Addr() != to || len(p.b) < 28 || msg.ExchangeType(p.b[18]) != ex || (p.b[19]&byte(msg.FlagResponse) != 0) != response {
			continue
		}
		n.q = append(n.q[:i], n.q[i+1:]...)
		n.nodes[to].Handle(p.b, p.to, p.from)
		return
	}
	t.Fatalf("no %v (response %v) queued for %v", ex, response, to)
}

// recorder keeps the children and IKE SAs that went down, to check that
// their keys were wiped.
type recorder struct {
	children []*ChildSA
	sas      []*IKESA
}

func (r *recorder) watch(m *Manager) {
	m.Event = func(e Event) {
		switch e.Kind {
		case "child-down":
			r.children = append(r.children, e.Child)
		case "ike-down":
			r.sas = append(r.sas, e.SA)
		}
	}
}

func zero(bs ...[]byte) bool {
	for _, b := range bs {
		for _, x := range b {
			if x != 0 {
				return false
			}
		}
	}
	return true
}

func (r *recorder) checkWiped(t *testing.T, m *Manager) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range r.children {
		if !zero(c.EncIn, c.EncOut, c.IntegIn, c.IntegOut) {
			t.Fatalf("keys of deleted child %v not wiped", c)
		}
	}
	for _, sa := range r.sas {
		if sa.Keys != nil && !zero(sa.SKEYSEED, sa.Keys.SKd, sa.Keys.SKei, sa.Keys.SKer, sa.Keys.SKai, sa.Keys.SKar) {
			t.Fatalf("keys of deleted IKE SA %v not wiped", sa)
		}
	}
}

// sharedClock gives ms one clock that starts at Unix time sec and moves
// only when the test sets *now.
func sharedClock(sec int64, ms ...*Manager) (now *time.Time) {
	t := time.Unix(sec, 0)
	for _, m := range ms {
		m.Now = func() time.Time { return t }
	}
	return &t
}

// settled checks that nothing of a collision is left on each of ms: one
// IKE SA with no exchange pending or queued, no retry, no collision
// record, and the kernel holding exactly the children's inbound SPIs.
func settled(t *testing.T, ms ...*Manager) {
	t.Helper()
	for _, m := range ms {
		settledOne(t, m)
	}
}

func settledOne(t *testing.T, m *Manager) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sas) != 1 || len(m.retries) != 0 {
		t.Fatalf("%d IKE SAs, %d retries left", len(m.sas), len(m.retries))
	}
	for _, sa := range m.sas {
		if sa.pending != nil || len(sa.queue) != 0 || sa.passive != nil || sa.pendingOf != nil || sa.activeRekey != nil || sa.redundant || sa.State != StateEstablished {
			t.Fatalf("SA not settled: %v pending %v queue %d passive %v", sa, sa.pending != nil, len(sa.queue), sa.passive != nil)
		}
		k := m.Kernel.(*MemKernel)
		k.mu.Lock()
		inKernel := len(k.spi)
		k.mu.Unlock()
		if inKernel != len(sa.Children) {
			t.Fatalf("kernel holds %d SPIs for %d children", inKernel, len(sa.Children))
		}
		for _, c := range sa.Children {
			if c.active != nil || c.passive != nil || c.Rekeyed || c.deleting || c.gone || !m.Kernel.InUse(c.SPIIn, sa.Local.Addr()) {
				t.Fatalf("child not settled: %v", c)
			}
		}
	}
}

// childFrom checks that m's only child has the keys of the exchange with
// nonces ni, nr, which m initiated or answered.
func childFrom(t *testing.T, m *Manager, ni, nr []byte, initiated bool) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, sa := range m.sas {
		c := sa.Children[0]
		il := c.Integ.KeyLen
		if c.Encr.AEAD {
			il = 0
		}
		eI, aI, eR, aR := sa.Suite.PRF.ChildKeys(sa.Keys.SKd, nil, ni, nr, c.Encr.KeyLen(), il)
		out, in := eI, eR
		if !initiated {
			out, in = eR, eI
		}
		if !bytes.Equal(c.EncOut, out) || !bytes.Equal(c.EncIn, in) || len(aI) == 0 || len(aR) == 0 {
			t.Fatalf("surviving child's keys are not those of the exchange with Ni %x.. Nr %x..", ni[:1], nr[:1])
		}
	}
}

type rekeyCase struct {
	name   string
	lowest string // which of the four nonces is the lowest
}

var rekeyCases = []rekeyCase{
	{"A's Ni lowest: A's exchange loses", "Ni1"},
	{"B's Nr to A lowest: A's exchange loses", "Nr1"},
	{"B's Ni lowest: B's exchange loses", "Ni2"},
	{"A's Nr to B lowest: B's exchange loses", "Nr2"},
}

// nonces for exchange 1 (A initiates: Ni1 from A, Nr1 from B) and
// exchange 2 (B initiates: Ni2 from B, Nr2 from A).
func (c rekeyCase) nonces() (ni1, nr1, ni2, nr2 []byte, aLoses bool) {
	v := map[string][]byte{"Ni1": nonceOf(0x81), "Nr1": nonceOf(0x82), "Ni2": nonceOf(0x83), "Nr2": nonceOf(0x84)}
	v[c.lowest] = nonceOf(0x01)
	return v["Ni1"], v["Nr1"], v["Ni2"], v["Nr2"], c.lowest == "Ni1" || c.lowest == "Nr1"
}

func TestChildRekeyCollision(t *testing.T) {
	for _, c := range rekeyCases {
		t.Run(c.name, func(t *testing.T) {
			n, a, b, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
			establish(t, n, a)
			x, y := checkPair(t, a, b, 1)
			var ra, rb recorder
			ra.watch(a)
			rb.watch(b)
			ni1, nr1, ni2, nr2, aLoses := c.nonces()
			nonceList(a, ni1, nr2)
			nonceList(b, ni2, nr1)
			var errs []error
			done := func(err error) { errs = append(errs, err) }
			a.RekeyChild(x.Children[0].SPIIn, done)
			b.RekeyChild(y.Children[0].SPIIn, done)
			n.pump(t) // req1 reaches B and req2 reaches A before any response
			x2, _ := checkPair(t, a, b, 1)
			childKeysMatch(t, a, b)
			settled(t, a, b)
			if x2.Children[0].SPIIn == x.Children[0].SPIIn || len(errs) != 2 || errs[0] != nil || errs[1] != nil {
				t.Fatalf("%+v %v", x2.Children, errs)
			}
			if aLoses {
				childFrom(t, a, ni2, nr2, false)
			} else {
				childFrom(t, a, ni1, nr1, true)
			}
			sa, sb := a.Stats(), b.Stats()
			if sa.ChildCollisions != 1 || sb.ChildCollisions != 1 {
				t.Fatalf("collisions: A %v, B %v", sa, sb)
			}
			if loser := map[bool]RekeyStats{true: sa, false: sb}[aLoses]; loser.RedundantDeleted != 1 {
				t.Fatalf("loser did not delete its redundant child: %v", loser)
			}
			if winner := map[bool]RekeyStats{false: sa, true: sb}[aLoses]; winner.RedundantDeleted != 0 {
				t.Fatalf("winner deleted: %v", winner)
			}
			// Each end saw the old child and one redundant child go.
			if len(ra.children) != 2 || len(rb.children) != 2 {
				t.Fatalf("children down: A %d, B %d", len(ra.children), len(rb.children))
			}
			ra.checkWiped(t, a)
			rb.checkWiped(t, b)
			// The survivor rekeys normally afterwards.
			if err := a.RekeyChild(x2.Children[0].SPIIn, done); err != nil {
				t.Fatal(err)
			}
			n.pump(t)
			checkPair(t, a, b, 1)
			childKeysMatch(t, a, b)
			settled(t, a, b)
		})
	}
}

// One end completes its rekey before the other's request reaches it: it
// answers TEMPORARY_FAILURE (it is closing the old child); the other end,
// which saw the collision, keeps the first end's child. Both orders of
// that answer and the Delete of the old child at the second end.
func TestChildRekeyCollisionSeenByOneEnd(t *testing.T) {
	for _, deleteFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("delete first %v", deleteFirst), func(t *testing.T) {
			n, a, b, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
			establish(t, n, a)
			x, y := checkPair(t, a, b, 1)
			var errs []error
			done := func(err error) { errs = append(errs, err) }
			a.RekeyChild(x.Children[0].SPIIn, done)
			b.RekeyChild(y.Children[0].SPIIn, done)
			n.deliverFirst(t, addrAR, false, msg.CREATE_CHILD_SA) // req1 at B, B's own outstanding
			n.deliverFirst(t, addrMN, true, msg.CREATE_CHILD_SA)  // resp1 at A: done, A deletes the old child
			n.deliverFirst(t, addrMN, false, msg.CREATE_CHILD_SA) // req2 at A: TEMPORARY_FAILURE
			if deleteFirst {
				n.deliverFirst(t, addrAR, false, msg.INFORMATIONAL)
			} else {
				n.deliverFirst(t, addrAR, true, msg.CREATE_CHILD_SA)
			}
			n.pump(t)
			checkPair(t, a, b, 1)
			childKeysMatch(t, a, b)
			settled(t, a, b)
			if len(errs) != 2 || errs[0] != nil || errs[1] != nil {
				t.Fatal(errs)
			}
			if a.Stats().TempFailuresSent != 1 || b.Stats().TempFailuresReceived != 1 || b.Stats().ChildCollisions != 1 || b.Stats().RedundantDeleted != 0 {
				t.Fatalf("A %v, B %v", a.Stats(), b.Stats())
			}
		})
	}
}

func TestIKERekeyCollision(t *testing.T) {
	for _, c := range rekeyCases {
		t.Run(c.name, func(t *testing.T) {
			n, a, b, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
			sa0 := establish(t, n, a)
			x, y := checkPair(t, a, b, 1)
			var ra, rb recorder
			ra.watch(a)
			rb.watch(b)
			ni1, nr1, ni2, nr2, aLoses := c.nonces()
			nonceList(a, ni1, nr2)
			nonceList(b, ni2, nr1)
			var errs []error
			done := func(err error) { errs = append(errs, err) }
			a.RekeyIKE(sa0.SPIi, done)
			b.RekeyIKE(y.SPIr, done)
			// A queued exchange ends on the surviving SA.
			a.CreateChild(sa0.SPIi, done)
			n.pump(t)
			x2, _ := checkPair(t, a, b, 2)
			childKeysMatch(t, a, b)
			settled(t, a, b)
			if x2.SPIi == x.SPIi || len(errs) != 3 {
				t.Fatalf("%+v %v", x2, errs)
			}
			for _, e := range errs {
				if e != nil {
					t.Fatal(errs)
				}
			}
			st, _ := a.Export(map[bool]uint64{true: x2.SPIi, false: x2.SPIr}[x2.Initiator])
			defer st.Wipe()
			wantNi, wantNr := ni1, nr1
			if aLoses {
				wantNi, wantNr = ni2, nr2
			}
			if !bytes.Equal(st.Ni, wantNi) || !bytes.Equal(st.Nr, wantNr) || x2.Initiator == aLoses {
				t.Fatalf("the surviving IKE SA is not the winner's (A initiator %v)", x2.Initiator)
			}
			sa, sb := a.Stats(), b.Stats()
			if sa.IKECollisions != 1 || sb.IKECollisions != 1 {
				t.Fatalf("collisions: A %v, B %v", sa, sb)
			}
			if loser := map[bool]RekeyStats{true: sa, false: sb}[aLoses]; loser.RedundantDeleted != 1 {
				t.Fatalf("loser: %v", loser)
			}
			// The old and the redundant IKE SA went down at both ends,
			// no child with them.
			if len(ra.sas) != 2 || len(rb.sas) != 2 || len(ra.children) != 0 || len(rb.children) != 0 {
				t.Fatalf("down: A %d SAs %d children, B %d SAs %d children", len(ra.sas), len(ra.children), len(rb.sas), len(rb.children))
			}
			ra.checkWiped(t, a)
			rb.checkWiped(t, b)
			// The survivor works: liveness, a child rekey, an IKE rekey.
			spiA := a.SAs()[0]
			local := map[bool]uint64{true: spiA.SPIi, false: spiA.SPIr}[spiA.Initiator]
			a.Liveness(local, done)
			a.RekeyChild(spiA.Children[0].SPIIn, done)
			b.RekeyIKE(map[bool]uint64{true: spiA.SPIr, false: spiA.SPIi}[spiA.Initiator], done)
			n.pump(t)
			checkPair(t, a, b, 2)
			childKeysMatch(t, a, b)
			settled(t, a, b)
			for _, e := range errs {
				if e != nil {
					t.Fatal(errs)
				}
			}
		})
	}
}

// One end completes its IKE SA rekey and deletes the old SA before the
// other's request reaches it (RFC 7296 2.8.2's special case): it answers
// TEMPORARY_FAILURE; the other end keeps the first end's new SA. Both
// orders of that answer and the Delete at the second end.
func TestIKERekeyCollisionSeenByOneEnd(t *testing.T) {
	for _, deleteFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("delete first %v", deleteFirst), func(t *testing.T) {
			n, a, b, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
			sa0 := establish(t, n, a)
			_, y := checkPair(t, a, b, 1)
			var errs []error
			done := func(err error) { errs = append(errs, err) }
			a.RekeyIKE(sa0.SPIi, done)
			b.RekeyIKE(y.SPIr, done)
			n.deliverFirst(t, addrAR, false, msg.CREATE_CHILD_SA) // req1 at B
			n.deliverFirst(t, addrMN, true, msg.CREATE_CHILD_SA)  // resp1 at A: A deletes the old SA
			n.deliverFirst(t, addrMN, false, msg.CREATE_CHILD_SA) // req2 at A: TEMPORARY_FAILURE
			if deleteFirst {
				n.deliverFirst(t, addrAR, false, msg.INFORMATIONAL)
			} else {
				n.deliverFirst(t, addrAR, true, msg.CREATE_CHILD_SA)
			}
			n.pump(t)
			x2, _ := checkPair(t, a, b, 1)
			childKeysMatch(t, a, b)
			settled(t, a, b)
			if !x2.Initiator || len(errs) != 2 || errs[0] != nil || errs[1] != nil {
				t.Fatalf("%+v %v", x2, errs)
			}
			if a.Stats().TempFailuresSent != 1 || a.Stats().IKECollisions != 1 || b.Stats().IKECollisions != 1 || b.Stats().RedundantDeleted != 0 {
				t.Fatalf("A %v, B %v", a.Stats(), b.Stats())
			}
		})
	}
}

// A child rekey crossing the peer's Delete of the same child (RFC 7296
// 2.25.1): the deleting end answers TEMPORARY_FAILURE (or, once the child
// is gone, CHILD_SA_NOT_FOUND); the child ends deleted at both ends and
// the rekey fails without leaving an SPI behind.
func TestChildRekeyCrossingDelete(t *testing.T) {
	for _, deleteDone := range []bool{false, true} {
		t.Run(fmt.Sprintf("delete completed first %v", deleteDone), func(t *testing.T) {
			n, a, b, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
			establish(t, n, a)
			x, y := checkPair(t, a, b, 1)
			var rekeyErr error = fmt.Errorf("not done")
			a.DeleteChild(x.Children[0].SPIIn)
			b.RekeyChild(y.Children[0].SPIIn, func(err error) { rekeyErr = err })
			if deleteDone {
				n.deliverFirst(t, addrAR, false, msg.INFORMATIONAL) // Delete at B
				n.deliverFirst(t, addrMN, true, msg.INFORMATIONAL)  // its answer at A
			}
			n.pump(t)
			checkPair(t, a, b, 0)
			settled(t, a, b)
			if rekeyErr == nil || b.Stats().RekeyDeleteCollisions != 1 {
				t.Fatalf("rekey: %v; B %v", rekeyErr, b.Stats())
			}
			if !deleteDone && a.Stats().TempFailuresSent != 1 {
				t.Fatalf("A %v", a.Stats())
			}
		})
	}
}

// Both ends delete the same child at once (RFC 7296 1.4.1): the answers
// carry no Delete payload, the child goes at both ends.
func TestChildDeleteCollision(t *testing.T) {
	n, a, b, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
	establish(t, n, a)
	x, y := checkPair(t, a, b, 1)
	a.DeleteChild(x.Children[0].SPIIn)
	b.DeleteChild(y.Children[0].SPIIn)
	n.pump(t)
	checkPair(t, a, b, 0)
	settled(t, a, b)
	if a.Stats().DeleteCollisions != 1 || b.Stats().DeleteCollisions != 1 {
		t.Fatalf("A %v, B %v", a.Stats(), b.Stats())
	}
}

// TEMPORARY_FAILURE and the retry (RFC 7296 2.25.1, 2.25.2): A rekeys the
// IKE SA while B rekeys a child; each answers the other with
// TEMPORARY_FAILURE, waits, and retries: A's IKE SA rekey first, then B's
// child rekey, which runs on the new IKE SA.
func TestTemporaryFailureRetry(t *testing.T) {
	n, a, b, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
	now := sharedClock(7000, a, b)
	sa0 := establish(t, n, a)
	x, y := checkPair(t, a, b, 1)
	var errs []error
	done := func(err error) { errs = append(errs, err) }
	a.RekeyIKE(sa0.SPIi, done)
	b.RekeyChild(y.Children[0].SPIIn, done)
	n.pump(t)
	if len(errs) != 0 || a.Stats().TempFailuresReceived != 1 || b.Stats().TempFailuresReceived != 1 {
		t.Fatalf("%v; A %v, B %v", errs, a.Stats(), b.Stats())
	}
	// No retry before the delay.
	a.Tick()
	b.Tick()
	if len(n.q) != 0 {
		t.Fatal("retried at once")
	}
	*now = now.Add(a.RetryDelay * 3 / 2)
	a.Tick()
	n.pump(t)
	b.Tick()
	n.pump(t)
	x2, _ := checkPair(t, a, b, 1)
	childKeysMatch(t, a, b)
	settled(t, a, b)
	if x2.SPIi == x.SPIi || x2.Children[0].SPIIn == x.Children[0].SPIIn || len(errs) != 2 || errs[0] != nil || errs[1] != nil {
		t.Fatalf("%+v %v", x2, errs)
	}
	if a.Stats().Retries != 1 || b.Stats().Retries != 1 {
		t.Fatalf("A %v, B %v", a.Stats(), b.Stats())
	}
}

// A peer that keeps answering TEMPORARY_FAILURE: after TempFailureRetries
// the exchange fails and the IKE SA is closed (RFC 7296 2.25).
func TestTemporaryFailureGivesUp(t *testing.T) {
	n, a, b, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
	now := sharedClock(7000, a, b)
	sa0 := establish(t, n, a)
	_, y := checkPair(t, a, b, 1)
	// B's child exchange never ends: its requests are lost.
	n.drop = func(p packet) bool {
		return p.to.Addr() == addrMN && p.b[19]&byte(msg.FlagResponse) == 0 && msg.ExchangeType(p.b[18]) == msg.CREATE_CHILD_SA
	}
	b.RetransmitTries = 1000
	b.RekeyChild(y.Children[0].SPIIn, nil)
	var res error
	a.RekeyIKE(sa0.SPIi, func(err error) { res = err })
	n.pump(t)
	for i := 0; i < 10 && res == nil; i++ {
		*now = now.Add(a.RetryDelay * 3 / 2)
		a.Tick()
		n.pump(t)
	}
	if res == nil || a.Stats().TempFailuresReceived != uint64(a.TempFailureRetries+1) {
		t.Fatalf("%v; A %v", res, a.Stats())
	}
	if len(a.SAs()) != 0 {
		t.Fatal("IKE SA not closed")
	}
}

func TestLowestNonce(t *testing.T) {
	for _, c := range []struct {
		mine, theirs [][]byte
		want         bool
	}{
		{[][]byte{{2}, {9}}, [][]byte{{3}, {4}}, true},
		{[][]byte{{5}, {9}}, [][]byte{{3}, {6}}, false},
		{[][]byte{{1, 2}, {9}}, [][]byte{{1}, {6}}, false}, // a prefix is the lower
		{[][]byte{{9}, {1, 0, 0}}, [][]byte{{1, 0, 1}, {6}}, true},
	} {
		if got := lowestIn(c.mine, c.theirs); got != c.want {
			t.Fatalf("lowestIn(%x, %x) = %v", c.mine, c.theirs, got)
		}
	}
}

// The loser processes the winner's Delete of the old SA before the answer
// to its own rekey (charon does, its worker threads racing): it concludes
// that the winner did not see the collision and keeps the winner's SA
// without creating its own. The winner's copy of the loser's SA is never
// deleted by the loser: the winner deletes it, unanswered, and drops it
// after its retransmissions.
func TestIKERekeyCollisionLoserSeesDeleteFirst(t *testing.T) {
	n, a, b, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
	now := sharedClock(9000, a, b)
	sa0 := establish(t, n, a)
	_, y := checkPair(t, a, b, 1)
	ni1, nr1, ni2, nr2, _ := rekeyCase{lowest: "Ni2"}.nonces() // B's exchange loses
	nonceList(a, ni1, nr2)
	nonceList(b, ni2, nr1)
	var errs []error
	done := func(err error) { errs = append(errs, err) }
	a.RekeyIKE(sa0.SPIi, done)
	b.RekeyIKE(y.SPIr, done)
	n.deliverFirst(t, addrAR, false, msg.CREATE_CHILD_SA) // req1 at B
	n.deliverFirst(t, addrMN, false, msg.CREATE_CHILD_SA) // req2 at A
	n.deliverFirst(t, addrMN, true, msg.CREATE_CHILD_SA)  // resp1 at A: A won, deletes the old SA
	n.deliverFirst(t, addrAR, false, msg.INFORMATIONAL)   // that Delete at B before resp2
	n.pump(t)
	for i := 0; i < 100 && len(a.SAs()) > 1; i++ {
		*now = now.Add(a.RetransmitBase)
		a.Tick()
		b.Tick()
		n.pump(t)
	}
	x2, _ := checkPair(t, a, b, 1)
	childKeysMatch(t, a, b)
	settled(t, a, b)
	st, _ := a.Export(x2.SPIi)
	defer st.Wipe()
	if !x2.Initiator || !bytes.Equal(st.Ni, ni1) || len(errs) != 2 || errs[0] != nil || errs[1] != nil {
		t.Fatalf("%+v %v", x2, errs)
	}
}

// A replaced child the peer never deletes (it dropped it silently) is
// deleted by this end after DeleteWait.
func TestReplacedChildDeletedAfterDeadline(t *testing.T) {
	n, a, b, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
	now := sharedClock(9000, a, b)
	sa0 := establish(t, n, a)
	// A second child, answered by B; then B sees it as replaced, waiting
	// for A's Delete that never comes.
	a.CreateChild(sa0.SPIi, nil)
	n.pump(t)
	_, y := checkPair(t, a, b, 2)
	b.mu.Lock()
	_, c := b.byChild(y.Children[1].SPIIn)
	c.Rekeyed, c.deadline = true, now.Add(b.DeleteWait)
	b.mu.Unlock()
	b.Tick()
	n.pump(t)
	checkPair(t, a, b, 2) // not yet
	*now = now.Add(b.DeleteWait)
	b.Tick()
	n.pump(t)
	x, y2 := checkPair(t, a, b, 1)
	if y2.Children[0].SPIIn != y.Children[0].SPIIn || x.Children[0].SPIOut != y.Children[0].SPIIn {
		t.Fatalf("the wrong child went: %+v", y2.Children)
	}
	settled(t, a, b)
}

// A peer that lost a child without a Delete answers its rekey with
// CHILD_SA_NOT_FOUND: the rekeying end closes its copy silently and
// creates a new child from scratch (RFC 7296 2.25).
func TestRekeyOfChildThePeerLost(t *testing.T) {
	n, a, b, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
	establish(t, n, a)
	x, y := checkPair(t, a, b, 1)
	b.mu.Lock()
	bsa, c := b.byChild(y.Children[0].SPIIn)
	b.dropChild(bsa, c) // lost, no Delete sent
	b.mu.Unlock()
	var res error = fmt.Errorf("not done")
	a.RekeyChild(x.Children[0].SPIIn, func(err error) { res = err })
	n.pump(t)
	x2, _ := checkPair(t, a, b, 1)
	childKeysMatch(t, a, b)
	settled(t, a, b)
	if res != nil || x2.Children[0].SPIIn == x.Children[0].SPIIn {
		t.Fatalf("%v %+v", res, x2.Children)
	}
}

// Lifetime rekeys are jittered (RFC 7296 2.8.1): up to 1/20 of the
// lifetime earlier, per SA.
func TestLifetimeRekeyJitter(t *testing.T) {
	for _, j := range []uint16{0, 65535} {
		n, a, b, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
		now := sharedClock(5000, a, b)
		a.Conns[0].ChildLifetime, b.Conns[0].ChildLifetime = time.Hour, time.Hour
		establish(t, n, a)
		x, _ := checkPair(t, a, b, 1)
		a.mu.Lock()
		for _, sa := range a.sas {
			sa.Children[0].jitter = j
		}
		a.mu.Unlock()
		*now = now.Add(52 * time.Minute) // 9/10 is 54 min, less 1/20 is 51 min
		a.Tick()
		n.pump(t)
		x2, _ := checkPair(t, a, b, 1)
		if rekeyed := x2.Children[0].SPIIn != x.Children[0].SPIIn; rekeyed != (j != 0) {
			t.Fatalf("jitter %d: rekeyed at 52 min: %v", j, rekeyed)
		}
	}
}
