package pfkey

import (
	"reflect"
	"testing"
)

func fuzzSeeds(f *testing.F) {
	for _, d := range []*Dialect{linuxLE, freebsdLE} {
		for _, m := range []*Message{addMessage(), spdAddMessage(), fullMessage(d)} {
			b, err := d.Marshal(m)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add(hx(f, linuxDumpReply))
	f.Add(hx(f, freebsdGetReply))
	f.Add(hx(f, linuxSPDDumpReply))
	f.Add(hx(f, freebsdSPDDumpReply))
}

// fuzzDialect checks that no input panics the decoder and that whatever
// decodes re-encodes to a message that decodes to the same value.
func fuzzDialect(t *testing.T, d *Dialect, b []byte) {
	m, err := d.Unmarshal(b)
	if err != nil {
		return
	}
	out, err := d.Marshal(m)
	if err != nil {
		t.Fatalf("decoded message does not re-encode: %v\n%+v", err, m)
	}
	m2, err := d.Unmarshal(out)
	if err != nil {
		t.Fatalf("re-encoded message does not decode: %v", err)
	}
	if !reflect.DeepEqual(m, m2) {
		t.Fatalf("round trip differs:\n%+v\n%+v", m, m2)
	}
}

func FuzzParseLinux(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzDialect(t, linuxLE, b) })
}

func FuzzParseFreeBSD(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzDialect(t, freebsdLE, b) })
}

// FuzzParseExtension reaches the extension decoders directly: it wraps the
// fuzzed body in a sadb_msg and an extension header with consistent
// lengths, so the mutator does not have to find them.
func FuzzParseExtension(f *testing.F) {
	for _, d := range []*Dialect{linuxLE, freebsdLE} {
		b, err := d.Marshal(fullMessage(d))
		if err != nil {
			f.Fatal(err)
		}
		off := msgHeaderLen
		for off < len(b) {
			el := int(d.ByteOrder.Uint16(b[off:])) * 8
			t := d.ByteOrder.Uint16(b[off+2:])
			f.Add(d == freebsdLE, t, b[off+extHeaderLen:off+el])
			off += el
		}
	}
	f.Fuzz(func(t *testing.T, freebsd bool, typ uint16, body []byte) {
		d := linuxLE
		if freebsd {
			d = freebsdLE
		}
		n := align8(extHeaderLen + len(body))
		if msgHeaderLen+n > MaxMessageLen {
			return
		}
		b := make([]byte, msgHeaderLen+n)
		b[0], b[1] = Version, byte(MsgAdd)
		d.ByteOrder.PutUint16(b[4:], uint16(len(b)/8))
		d.ByteOrder.PutUint16(b[msgHeaderLen:], uint16(n/8))
		d.ByteOrder.PutUint16(b[msgHeaderLen+2:], typ)
		copy(b[msgHeaderLen+extHeaderLen:], body)
		fuzzDialect(t, d, b)
	})
}
