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
