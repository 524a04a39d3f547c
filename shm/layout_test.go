package shm

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"testing"
	"unsafe"
)

func littleEndianHost() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

// goldenImage is a segment of 1 slot with 16 data bytes, written by hand
// from the layout in doc.go (little-endian host): the header, and slot 0 in
// state REQUEST with its request in copy 1.
func goldenImage() []byte {
	img := make([]byte, 0, 256)
	// Header, 64 bytes.
	img = append(img, "IKECXSHM"...)                                  // magic
	img = append(img, 0x01, 0x00, 0x00, 0x00)                         // version 1
	img = append(img, 0x40, 0x00, 0x00, 0x00)                         // header size 64
	img = append(img, 0x01, 0x00, 0x00, 0x00)                         // 1 slot
	img = append(img, 0xc0, 0x00, 0x00, 0x00)                         // slot size 192 = align64(16 + 2*align8(48+16))
	img = append(img, 0x10, 0x00, 0x00, 0x00)                         // max data 16
	img = append(img, 0xce, 0xe3, 0x9c, 0x27)                         // CRC32C(bytes 0..27) = 0x279ce3ce
	img = append(img, 0x39, 0x30, 0x00, 0x00)                         // PID of the CXTP module 12345
	img = append(img, 0x00, 0x00, 0x00, 0x00)                         // no context module
	img = append(img, 0x01, 0x00, 0x00, 0x00)                         // CXTP epoch 1
	img = append(img, 0x00, 0x00, 0x00, 0x00)                         // context epoch 0
	img = append(img, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00) // CXTP doorbell 0
	img = append(img, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00) // context doorbell 1
	// Slot 0 header, 16 bytes.
	img = append(img, 0x02, 0x01, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00) // REQUEST, copy 1, commit 2, generation 2
	img = append(img, 0x39, 0x30, 0x00, 0x00)                         // claimed by PID 12345
	img = append(img, 0x00, 0x00, 0x00, 0x00)                         // reserved
	// Copy 0, 64 bytes: never written.
	img = append(img, make([]byte, 64)...)
	// Copy 1, 64 bytes.
	img = append(img, 0x02, 0x00, 0x00, 0x00)                                        // sequence 2
	img = append(img, 0x01)                                                          // CAPTURE
	img = append(img, 0x06)                                                          // IPv6
	img = append(img, 0xf0, 0xff)                                                    // FPT 0xfff0
	img = append(img, 0x00, 0x00)                                                    // status 0
	img = append(img, 0x00, 0x00)                                                    // flags
	img = append(img, 0x05, 0x00, 0x00, 0x00)                                        // 5 data bytes
	img = append(img, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01) // 2001:db8::1
	img = append(img, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01)                // tag
	img = append(img, 0x00, 0x00, 0x00, 0x00)                                        // reserved
	img = append(img, 0x8f, 0xc2, 0x0d, 0x34)                                        // CRC32C = 0x340dc28f
	img = append(img, "hello"...)
	img = append(img, make([]byte, 11)...) // rest of the data area
	// Slot padding to 192 bytes.
	img = append(img, make([]byte, 192-16-128)...)
	return img
}

func TestGoldenDecode(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("golden bytes are little-endian")
	}
	img := goldenImage()
	if len(img) != 256 {
		t.Fatalf("golden image is %d bytes, want 256", len(img))
	}
	im, err := ParseImage(img)
	if err != nil {
		t.Fatal(err)
	}
	h := im.Header
	if h.Geometry != (Geometry{Slots: 1, MaxData: 16}) || h.SlotSize != 192 || h.PID != [2]uint32{12345, 0} ||
		h.Epoch != [2]uint32{1, 0} || h.Bell != [2]uint64{0, 1} {
		t.Fatalf("header %+v", h)
	}
	s := im.Slots[0]
	if s.Err != nil {
		t.Fatal(s.Err)
	}
	want := Record{Seq: 2, Op: OpCapture, FPT: 0xfff0, MN: netip.MustParseAddr("2001:db8::1"), Tag: 0x0102030405060708, Data: []byte("hello")}
	if s.State != StateRequest || s.Gen != 2 || s.Owner != 12345 || !recordEqual(*s.Rec, want) {
		t.Fatalf("slot %+v rec %+v", s, s.Rec)
	}
}

// TestGoldenEncode builds the same state through the API and compares the
// mapped bytes with the hand-written image.
func TestGoldenEncode(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("golden bytes are little-endian")
	}
	name := testName(t)
	seg, err := Open(name, RoleCXTP, &Options{Slots: 1, MaxData: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	if _, err := seg.Post(Request{Op: OpCapture, FPT: 0xfff0, MN: netip.MustParseAddr("2001:db8::1"), Tag: 0x0102030405060708, Data: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadObject(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := goldenImage()
	pid := uint32(os.Getpid())
	binary.LittleEndian.PutUint32(want[32:], pid)
	binary.LittleEndian.PutUint32(want[64+8:], pid)
	if !bytes.Equal(got, want) {
		for i := range want {
			if i >= len(got) || got[i] != want[i] {
				t.Fatalf("segment differs from the golden image at byte %d (len %d/%d):\n got %x\nwant %x", i, len(got), len(want), got[i&^15:min(len(got), i&^15+32)], want[i&^15:min(len(want), i&^15+32)])
			}
		}
		t.Fatalf("segment is %d bytes, golden %d", len(got), len(want))
	}
}

func recordEqual(a, b Record) bool {
	return a.Seq == b.Seq && a.Op == b.Op && a.FPT == b.FPT && a.MN == b.MN && a.Status == b.Status &&
		a.Tag == b.Tag && bytes.Equal(a.Data, b.Data)
}

func TestHeaderErrors(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("golden bytes are little-endian")
	}
	cases := []struct {
		name string
		mut  func(b []byte)
		want string
	}{
		{"short", nil, "need 64"},
		{"magic", func(b []byte) { b[0] = 'X' }, "bad magic"},
		{"nomagic", func(b []byte) { copy(b, make([]byte, 8)) }, "not initialized"},
		{"version", func(b []byte) { b[8] = 2 }, "layout version 2"},
		{"hdrsize", func(b []byte) { b[12] = 0x80 }, "header size 128"},
		{"crc", func(b []byte) { b[24] = 0x20 }, "checksum"},
		{"truncated image", func(b []byte) {}, "needs 256"},
	}
	for _, c := range cases {
		img := goldenImage()
		switch c.name {
		case "short":
			img = img[:63]
		case "truncated image":
			img = img[:255]
		default:
			c.mut(img)
		}
		_, err := ParseImage(img)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestCorruptSlotReported(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("golden bytes are little-endian")
	}
	cases := map[string]func(b []byte){
		"data bit":        func(b []byte) { b[64+16+64+48] ^= 1 },
		"length":          func(b []byte) { b[64+16+64+12] = 0x11 },
		"sequence":        func(b []byte) { b[64+2] = 3 }, // control word names commit 3
		"state":           func(b []byte) { b[64] = 9 },
		"reserved ctl":    func(b []byte) { b[64+1] |= 0x02 },
		"copy bit":        func(b []byte) { b[64+1] = 0 }, // points at the empty copy 0
		"slot reserved":   func(b []byte) { b[64+12] = 1 },
		"family":          func(b []byte) { b[64+16+64+5] = 5 },
		"checksum itself": func(b []byte) { b[64+16+64+44] ^= 0x80 },
	}
	for name, mut := range cases {
		img := goldenImage()
		mut(img)
		im, err := ParseImage(img)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s := im.Slots[0]; s.Err == nil || s.Rec != nil {
			t.Errorf("%s: slot accepted: %+v", name, s)
		} else {
			t.Logf("%s: %v", name, s.Err)
		}
		if len(im.Corrupt()) != 1 {
			t.Errorf("%s: Corrupt() = %d slots", name, len(im.Corrupt()))
		}
	}
}

func TestGeometry(t *testing.T) {
	g := Geometry{Slots: DefaultSlots, MaxData: DefaultMaxData}
	if g.RecordSize() != 8240 || g.SlotSize() != 16512 || g.Size() != 64+64*16512 {
		t.Fatalf("default geometry: record %d slot %d size %d", g.RecordSize(), g.SlotSize(), g.Size())
	}
	for _, bad := range []Geometry{{0, 1}, {1, 0}, {MaxSlots + 1, 1}, {1, MaxDataLimit + 1}, {MaxSlots, MaxDataLimit}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if (Geometry{Slots: 3, MaxData: 1}).SlotSize()%64 != 0 {
		t.Fatal("slot size not a multiple of 64")
	}
}
