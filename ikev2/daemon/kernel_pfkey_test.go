//go:build linux || freebsd

package daemon

import (
	"testing"

	"github.com/ikectx/ikectx/pfkey"
)

// TestSameKeys: deleting a child's SA spares an SA at the same (source,
// destination, SPI) with other keys (a stale SA of the address's previous
// holder); a larval SA or a child without keys is the child's.
func TestSameKeys(t *testing.T) {
	enc, auth := []byte("0123456789abcdef"), []byte("0123456789abcdefghij")
	for _, c := range []struct {
		k         pfkey.Keys
		enc, auth []byte
		want      bool
	}{
		{pfkey.Keys{Enc: enc, Auth: auth}, enc, auth, true},
		{pfkey.Keys{Enc: enc, Auth: []byte("another-auth-key-xxx")}, enc, auth, false},
		{pfkey.Keys{Enc: []byte("another-enc-key!"), Auth: auth}, enc, auth, false},
		{pfkey.Keys{}, enc, auth, true},                    // larval
		{pfkey.Keys{Enc: enc, Auth: auth}, nil, nil, true}, // child without keys
	} {
		if got := sameKeys(c.k, c.enc, c.auth); got != c.want {
			t.Errorf("sameKeys(%v) = %v, want %v", c.k, got, c.want)
		}
	}
}
