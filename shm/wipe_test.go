package shm

import (
	"bytes"
	"net/netip"
	"testing"
)

// TestReleaseWipesKeys checks that neither copy of a slot keeps a context's
// bytes (key material) once the CXTP module releases it, for both a
// completed request and a withdrawn one.
func TestReleaseWipesKeys(t *testing.T) {
	name := testName(t)
	cx := mustOpen(t, name, RoleCXTP, &Options{Slots: 2})
	cm := mustOpen(t, name, RoleContext, nil)
	secret := bytes.Repeat([]byte{0xA5, 0x5A, 0xC3}, 100)
	mn := netip.MustParseAddr("2001:db8::7")

	// A completed request: the request copy and the result copy both held keys.
	id, err := cx.Post(Request{Op: OpPreinstall, FPT: 0x8001, MN: mn, Data: secret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Accept(id); err != nil {
		t.Fatal(err)
	}
	if err := cm.Complete(id, 0, secret); err != nil {
		t.Fatal(err)
	}
	if _, err := cx.Result(id); err != nil {
		t.Fatal(err)
	}
	if err := cx.Release(id); err != nil {
		t.Fatal(err)
	}
	checkWiped(t, cx, id, secret)

	// A withdrawn request.
	id, err = cx.Post(Request{Op: OpPreinstall, FPT: 0x8001, MN: mn, Data: secret})
	if err != nil {
		t.Fatal(err)
	}
	if err := cx.Release(id); err != nil {
		t.Fatal(err)
	}
	checkWiped(t, cx, id, secret)

	// The wiped slot is usable again.
	id, err = cx.Post(Request{Op: OpCapture, FPT: 0x8001, MN: mn})
	if err != nil {
		t.Fatal(err)
	}
	if si, _ := cx.Slot(id); si.State != StateRequest || si.Err != nil {
		t.Fatalf("reused slot: %+v", si)
	}
}

func checkWiped(t *testing.T, s *Segment, id SlotID, secret []byte) {
	t.Helper()
	if si, _ := s.Slot(id); si.State != StateFree {
		t.Fatalf("slot %d after release: %+v", id, si)
	}
	for c := 0; c < 2; c++ {
		r := s.record(id, c)
		if bytes.Contains(r, secret[:16]) {
			t.Fatalf("slot %d copy %d still holds the context bytes", id, c)
		}
		if !bytes.Equal(r, make([]byte, len(r))) {
			t.Fatalf("slot %d copy %d not zeroed", id, c)
		}
	}
}
