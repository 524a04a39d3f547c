package ikev2

import (
	"fmt"
	"strings"
	"testing"
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
