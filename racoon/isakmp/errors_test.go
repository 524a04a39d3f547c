package isakmp

import (
	"strings"
	"testing"
)

func TestMalformed(t *testing.T) {
	good := unhex(t, stripComments(mainMode1))
	set := func(b []byte, i int, v ...byte) []byte {
		c := append([]byte(nil), b...)
		copy(c[i:], v)
		return c
	}
	for _, c := range []struct {
		name  string
		b     []byte
		where string
	}{
		{"short header", good[:27], "header"},
		{"length mismatch", set(good, 24, 0, 0, 0, 0x6d), "header"},
		{"length below header", set(good[:28], 24, 0, 0, 0, 0x10), "header"},
		{"truncated datagram", set(good[:60], 24, 0, 0, 0, 60), "SA payload"},
		{"payload length 3", set(good, 30, 0, 3), "SA payload"},
		{"payload past end", set(good, 30, 0, 0x60), "SA payload"},
		{"trailing bytes", set(append(good, 0), 24, 0, 0, 0, 109), "payload chain"},
		{"proposal length", set(good, 42, 0, 0x31), "Proposal payload"},
		{"transform count", set(good, 47, 2), "Proposal payload"},
		{"transform next", set(good, 48, 9), "Transform payload"},
		{"proposal next", set(good, 40, 3), "Proposal payload"},
		{"TLV overrun", set(good, 62, 0, 0x40), "Transform payload"},
		{"SPI size overrun", set(good, 46, 0x30), "Proposal payload"},
		{"secrecy situation", set(good, 39, 3), "SA payload"},
		{"transform in chain", set(good, 16, 3), "Transform payload"},
		{"vid next bogus chain", set(good, 88, 0x0d), "VendorID payload"},
	} {
		_, err := Parse(c.b)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		e, ok := err.(*Error)
		if !ok || e.Where != c.where || !strings.HasPrefix(err.Error(), "isakmp: "+c.where+" at offset ") {
			t.Errorf("%s: %v (want a %s error)", c.name, err, c.where)
		}
	}
	for _, c := range []struct {
		t    PayloadType
		body string
	}{
		{PayloadID, "05 00 0000 0102"},              // IPV6_ADDR with 2 bytes
		{PayloadID, "01 00"},                        // short
		{PayloadDelete, "00000001 03 04 0002 aabb"}, // 2 SPIs announced, half of one present
		{PayloadNotification, "00000001 03 04 6002 aa"},
		{PayloadCert, ""},
		{PayloadCR, ""},
		{PayloadSA, "00000001 00000001"}, // no proposal
	} {
		p := newPayload(c.t)
		if err := p.DecodeBody(unhex(t, c.body)); err == nil || !strings.Contains(err.Error(), c.t.String()) {
			t.Errorf("%s %q: %v", c.t, c.body, err)
		}
	}
	// encoder refusals
	for _, m := range []*Message{
		{Header: Header{Flags: FlagEncryption}},
		{Header: Header{Flags: FlagEncryption}, Encrypted: []byte{1}, Payloads: []Payload{&Hash{}}},
		{Encrypted: []byte{1}},
		{Payloads: []Payload{&ID{Type: IDIPv4Addr, Data: []byte{1}}}},
		{Payloads: []Payload{&Delete{SPISize: 4, SPIs: [][]byte{{1}}}}},
		{Payloads: []Payload{&SA{DOI: 1, Situation: 2}}},
		{Payloads: []Payload{&Raw{Type: PayloadTransform}}},
		{Payloads: []Payload{&SA{Proposals: []Proposal{{Transforms: []Transform{{Attributes: []Attribute{{Type: 1, TV: true, Value: []byte{1}}}}}}}}}},
	} {
		if _, err := m.Marshal(); err == nil {
			t.Errorf("Marshal accepted %+v", m)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(unhex(f, stripComments(mainMode1)))
	f.Add(append(unhex(f, "0102030405060708 0000000000000000 08 10 20 00 00000000 0000003c"), unhex(f, stripComments(quick1))[:32]...))
	f.Add(append(unhex(f, "0102030405060708 1112131415161718 0c 10 05 00 00000001 0000004c"), unhex(f, stripComments(informational))...))
	f.Add(unhex(f, "0102030405060708 1112131415161718 05 10 02 01 00000000 00000024 0011223344556677"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		enc, err := m.Marshal()
		if err != nil {
			t.Fatalf("re-encoding a parsed message: %v", err)
		}
		m2, err := Parse(enc)
		if err != nil {
			t.Fatalf("re-parsing: %v", err)
		}
		enc2, err := m2.Marshal()
		if err != nil || string(enc2) != string(enc) {
			t.Fatalf("not idempotent: %x vs %x (%v)", enc, enc2, err)
		}
		if len(enc) != len(b) {
			t.Fatalf("length changed: %d -> %d", len(b), len(enc))
		}
	})
}
