package cxtp

import (
	"bytes"
	"testing"
)

// FuzzParse: no input may panic the decoder, and whatever decodes must
// encode again to a message that decodes to the same thing (the encoding
// may differ only in reserved bits and CDB padding, which are not kept).
func FuzzParse(f *testing.F) {
	for _, g := range goldens {
		f.Add(unhex(f, g.wire))
	}
	f.Add([]byte{})
	f.Add([]byte{0x23, 0x80, 0x00, 0x10, 0, 0, 0, 0, 1, 2, 3, 4, 0x80, 0x01, 0xff, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			if m != nil {
				t.Fatal("message returned with an error")
			}
			return
		}
		enc, err := Marshal(m)
		if err != nil {
			t.Fatalf("re-encode %v: %v", m, err)
		}
		if len(enc) != len(b) {
			t.Fatalf("re-encoded length %d, input %d", len(enc), len(b))
		}
		m2, err := Parse(enc)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		enc2, _ := Marshal(m2)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable")
		}
		_ = m.String()
	})
}

func FuzzDecodeCDB(f *testing.F) {
	f.Add([]byte{0x80, 0x01, 0x01, 0x00, 'a', 'b', 'c', 0})
	f.Add([]byte{0x00, 0x01, 0x02, 0x80, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, n, err := DecodeCDB(b)
		if err != nil {
			return
		}
		if n > len(b) || n%8 != 0 || n == 0 {
			t.Fatalf("consumed %d of %d", n, len(b))
		}
		enc, err := c.MarshalBinary()
		if err != nil || len(enc) != n {
			t.Fatalf("re-encode: %d octets, %v", len(enc), err)
		}
	})
}
