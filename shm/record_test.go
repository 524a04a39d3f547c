package shm

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	recs := []Record{
		{Seq: 1, Op: OpCapture, FPT: 0xfff0, MN: netip.MustParseAddr("2001:db8::1"), Tag: 7},
		{Seq: 0xffffffff, Op: OpPreinstall, FPT: 1, MN: netip.MustParseAddr("192.0.2.9"), Data: bytes.Repeat([]byte{0xa5}, 100)},
		{Seq: 3, Op: OpActivate, Status: StatusCollision, Data: []byte{1}},
		{Seq: 4, Op: 200, MN: netip.MustParseAddr("::ffff:192.0.2.1"), Tag: 1 << 63},
		{Seq: 5, Op: OpDiscard, Data: bytes.Repeat([]byte{1, 2, 3}, 100)[:300]},
	}
	area := make([]byte, RecordHeaderSize+300)
	for _, r := range recs {
		for i := range area {
			area[i] = 0xee // garbage where nothing is written must not matter
		}
		if err := encodeRecord(area, &r, 300); err != nil {
			t.Fatal(err)
		}
		got, err := decodeRecord(area, 300)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		if r.Data == nil {
			r.Data = []byte{}
		}
		if !recordEqual(got, r) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, r)
		}
	}
}

func TestRecordEncodeErrors(t *testing.T) {
	area := make([]byte, RecordHeaderSize+8)
	for _, c := range []struct {
		r    Record
		want string
	}{
		{Record{Op: 0}, "operation 0"},
		{Record{Op: 1, Data: make([]byte, 9)}, "at most 8"},
		{Record{Op: 1, MN: netip.MustParseAddr("fe80::1%eth0")}, "zone"},
	} {
		if err := encodeRecord(area, &c.r, 8); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.r, err, c.want)
		}
	}
}

func TestCtlWord(t *testing.T) {
	c := ctl{state: StateDone, copy: 1, commit: 0xbeef, gen: 0xdeadbeef}
	if c.word() != 0xdeadbeef_beef_0104 {
		t.Fatalf("word %#x", c.word())
	}
	d, err := decodeCtl(c.word())
	if err != nil || d != c {
		t.Fatalf("%+v %v", d, err)
	}
	n := c.next(StateFree, false)
	if n.gen != c.gen+1 || n.copy != 1 || n.commit != 0xbeef || n.state != StateFree {
		t.Fatalf("next %+v", n)
	}
	f := c.next(StateRequest, true)
	if f.copy != 0 || f.commit != uint16(f.gen) {
		t.Fatalf("flip %+v", f)
	}
	// The generation wraps.
	w := ctl{gen: 0xffffffff}.next(StateWriting, false)
	if w.gen != 0 {
		t.Fatalf("wrap %+v", w)
	}
}

func FuzzDecodeRecord(f *testing.F) {
	area := make([]byte, RecordHeaderSize+32)
	r := Record{Seq: 9, Op: OpCapture, FPT: 3, MN: netip.MustParseAddr("2001:db8::2"), Data: []byte("ctx")}
	if err := encodeRecord(area, &r, 32); err != nil {
		f.Fatal(err)
	}
	f.Add(area, 32)
	f.Add(area[:20], 32)
	f.Add([]byte{}, 0)
	f.Fuzz(func(t *testing.T, b []byte, maxData int) {
		r, err := decodeRecord(b, maxData)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same bytes it covers.
		out := make([]byte, RecordHeaderSize+len(r.Data))
		if err := encodeRecord(out, &r, len(r.Data)); err != nil {
			t.Fatalf("re-encode %+v: %v", r, err)
		}
		if !bytes.Equal(out, b[:len(out)]) {
			t.Fatalf("re-encode differs:\n got %x\nwant %x", out, b[:len(out)])
		}
	})
}
