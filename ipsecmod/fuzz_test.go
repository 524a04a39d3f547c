package ipsecmod

import (
	"bytes"
	"testing"

	"github.com/ikectx/ikectx/ipsecmod/ikev2ctx"
)

// FuzzUnmarshal feeds any bytes to the context decoder (and through it to
// every record decoder): it must never panic, and whatever it accepts must
// re-encode to bytes it accepts again with the same records.
func FuzzUnmarshal(f *testing.F) {
	c := fullContext()
	for k := KindSA; k < numKinds; k++ {
		b, err := c.Marshal(k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(unhex(f, goldenHeaderHex))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, k, err := Unmarshal(b)
		if err != nil {
			return
		}
		out, err := d.Marshal(k)
		if err != nil {
			return // e.g. a decoded key longer than the encoder allows
		}
		d2, k2, err := Unmarshal(out)
		if err != nil || k2 != k || d2.count(k) != d.count(k) {
			t.Fatalf("re-encoded context does not decode: %v", err)
		}
		out2, err := d2.Marshal(k)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("encoding not stable: %v", err)
		}
		d.Wipe()
		d2.Wipe()
	})
}

// FuzzIKEv2 targets the IKEv2 record decoder directly.
func FuzzIKEv2(f *testing.F) {
	b, err := goldenIKEv2().MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		sa, err := ikev2ctx.Parse(b)
		if err != nil {
			return
		}
		out, err := sa.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\n%x\n%x", out, b)
		}
	})
}
