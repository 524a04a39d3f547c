package shm

import (
	"testing"
)

// FuzzParseImage feeds corrupted segment images to the decoder: it must not
// panic, and a slot it accepts must carry a record that passes its checks.
func FuzzParseImage(f *testing.F) {
	f.Add(goldenImage())
	img := goldenImage()
	img[64+16+64+48] ^= 0x40
	f.Add(img)
	// A bigger image, built through the API: several slots in all states.
	name := testName(f)
	seg, err := Open(name, RoleCXTP, &Options{Slots: 4, MaxData: 40})
	if err != nil {
		f.Fatal(err)
	}
	ctxseg, err := Open(name, RoleContext, nil)
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := seg.Post(Request{Op: OpPreinstall, FPT: uint16(i), Data: []byte("context data")}); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := ctxseg.Accept(0); err != nil {
		f.Fatal(err)
	}
	if _, err := ctxseg.Accept(1); err != nil {
		f.Fatal(err)
	}
	if err := ctxseg.Reply(1, StatusOK, []byte("done")); err != nil {
		f.Fatal(err)
	}
	b, err := ReadObject(name, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	ctxseg.Close()
	seg.Close()
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := ParseImage(b)
		if err != nil {
			return
		}
		if len(im.Slots) != im.Header.Geometry.Slots {
			t.Fatalf("%d slots decoded, header says %d", len(im.Slots), im.Header.Geometry.Slots)
		}
		for _, s := range im.Slots {
			if s.Err != nil && s.Rec != nil {
				t.Fatalf("slot %d: corrupt yet has a record", s.ID)
			}
			if s.Rec != nil && len(s.Rec.Data) > im.Header.Geometry.MaxData {
				t.Fatalf("slot %d: %d data bytes", s.ID, len(s.Rec.Data))
			}
		}
	})
}
