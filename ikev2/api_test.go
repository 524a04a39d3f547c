package ikev2

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestKeysNotPrinted(t *testing.T) {
	n, mn, _, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
	sa := establish(t, n, mn)
	st, err := mn.Export(sa.SPIi)
	if err != nil {
		t.Fatal(err)
	}
	mn.mu.Lock()
	c := sa.Children[0]
	s := fmt.Sprintf("%v %+v %#v %v %+v %#v %v %+v %#v", st, st, st, sa, sa, sa, c, c, c)
	mn.mu.Unlock()
	for _, k := range [][]byte{st.SKd, st.SKei, st.Children[0].EncIn, st.PSK} {
		if strings.Contains(s, fmt.Sprint(k)) || strings.Contains(s, fmt.Sprintf("%x", k)) || strings.Contains(s, fmt.Sprintf("%#v", k)) {
			t.Fatalf("key printed: %s", s)
		}
	}
}

func TestQueuedExchangesFailWhenSADies(t *testing.T) {
	n, mn, _, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
	sa := establish(t, n, mn)
	var errs []error
	n.drop = func(packet) bool { return true } // the peer is gone
	mn.Liveness(sa.SPIi, func(err error) { errs = append(errs, err) })
	mn.RekeyIKE(sa.SPIi, func(err error) { errs = append(errs, err) })
	now := time.Now()
	mn.Now = func() time.Time { return now }
	for i := 0; i < 40; i++ {
		now = now.Add(5 * time.Second)
		mn.Tick()
		n.pump(t)
	}
	if len(errs) != 2 || errs[0] == nil || errs[1] == nil {
		t.Fatalf("%v", errs)
	}
	if len(mn.SAs()) != 0 {
		t.Fatal("SA left")
	}
}

func TestSimultaneousChildRekey(t *testing.T) {
	for i := 0; i < 20; i++ {
		n, mn, ar, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
		establish(t, n, mn)
		x, y := checkPair(t, mn, ar, 1)
		var errs []error
		done := func(err error) { errs = append(errs, err) }
		mn.RekeyChild(x.Children[0].SPIIn, done)
		ar.RekeyChild(y.Children[0].SPIIn, done)
		n.pump(t)
		x2, _ := checkPair(t, mn, ar, 1)
		childKeysMatch(t, mn, ar)
		if x2.Children[0].SPIIn == x.Children[0].SPIIn || len(errs) != 2 || errs[0] != nil || errs[1] != nil {
			t.Fatalf("%+v %v", x2.Children, errs)
		}
	}
}

// The other interleaving: the initiator's rekey completes before the
// peer's rekey request reaches it.
func TestSimultaneousChildRekeyReordered(t *testing.T) {
	for i := 0; i < 20; i++ {
		n, mn, ar, _ := pair(t, "aes128-sha256-x25519", "aes128-sha256")
		establish(t, n, mn)
		x, y := checkPair(t, mn, ar, 1)
		var errs []error
		done := func(err error) { errs = append(errs, err) }
		mn.RekeyChild(x.Children[0].SPIIn, done)
		ar.RekeyChild(y.Children[0].SPIIn, done)
		deliver := func(i int) {
			p := n.q[i]
			n.q = append(n.q[:i], n.q[i+1:]...)
			n.nodes[p.to.Addr()].Handle(p.b, p.to, p.from)
		}
		deliver(0) // R1 reaches ar while ar's R2 is outstanding
		deliver(1) // ar's response to R1 reaches mn before R2
		n.pump(t)
		x2, _ := checkPair(t, mn, ar, 1)
		childKeysMatch(t, mn, ar)
		if x2.Children[0].SPIIn == x.Children[0].SPIIn || len(errs) != 2 || errs[0] != nil || errs[1] != nil {
			t.Fatalf("%+v %v", x2.Children, errs)
		}
	}
}
