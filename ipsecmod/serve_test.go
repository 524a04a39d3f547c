//go:build linux

package ipsecmod

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/ikectx/ikectx/cxtp"
	"github.com/ikectx/ikectx/shm"
)

func TestHandleStatuses(t *testing.T) {
	pm, _, _ := parWithRacoon()
	st, data := pm.Handle(bg, shm.Record{Op: shm.OpCapture, FPT: uint16(cxtp.FPTIPsecSA), MN: mnOld})
	if st != shm.StatusOK || len(data) == 0 {
		t.Fatal(st)
	}
	m := newModule(t, narKernel(), nar, nil)
	cases := []struct {
		r    shm.Record
		want shm.Status
	}{
		{shm.Record{Op: shm.OpCapture, FPT: 0x80ff, MN: mnOld}, shm.StatusUnsupported},
		{shm.Record{Op: shm.OpCapture, FPT: 0x8001}, shm.StatusInvalid},
		{shm.Record{Op: shm.OpCapture, FPT: 0x8001, MN: mnOld}, shm.StatusNoContext},
		{shm.Record{Op: shm.OpCapture, FPT: 0x8004, MN: mnOld}, shm.StatusUnsupported},
		{shm.Record{Op: shm.OpPreinstall, FPT: 0x8001, MN: mnOld, Data: []byte{9}}, shm.StatusInvalid},
		{shm.Record{Op: shm.OpActivate, FPT: 0x8001, MN: mnOld, Data: []byte{1, 2, 3}}, shm.StatusInvalid},
		{shm.Record{Op: shm.OpActivate, FPT: 0x8001, MN: mnOld, Data: mnNew.AsSlice()}, shm.StatusNoContext},
		{shm.Record{Op: shm.OpPreinstall, FPT: 0x8001, MN: mnOld, Data: data}, shm.StatusOK},
		{shm.Record{Op: shm.OpActivate, FPT: 0x8001, MN: mnOld, Data: mnNew.AsSlice()}, shm.StatusOK},
		{shm.Record{Op: shm.OpDiscard, FPT: 0x8002, MN: mnOld}, shm.StatusOK},
		{shm.Record{Op: OpTransferred, FPT: 0x8002, MN: mnOld, Data: []byte{0}}, shm.StatusOK},
		{shm.Record{Op: 9, FPT: 0x8002, MN: mnOld}, shm.StatusUnsupported},
	}
	for i, c := range cases {
		if got, _ := m.Handle(bg, c.r); got != c.want {
			t.Errorf("case %d (%v): %v, want %v", i, c.r.Op, got, c.want)
		}
	}
}

// TestServeThroughSHM runs the module on a real segment against a CXTP
// side written as cxtpd's Broker does: capture on one module, pre-install
// and activate on another.
func TestServeThroughSHM(t *testing.T) {
	if _, err := os.Stat("/dev/shm"); err != nil {
		t.Skip("no /dev/shm")
	}
	ctx, cancel := context.WithTimeout(bg, 20*time.Second)
	defer cancel()
	name := fmt.Sprintf("/ipsecmod-test-%d", os.Getpid())
	cx, err := shm.Open(name, shm.RoleCXTP, &shm.Options{Slots: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer shm.Unlink(name, nil)
	defer cx.Close()
	seg, err := shm.Open(name, shm.RoleContext, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	pm, _, _ := parWithRacoon()
	done := make(chan error, 1)
	sctx, stop := context.WithCancel(ctx)
	go func() { done <- pm.Serve(sctx, seg) }()
	ev, err := cx.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cx.Submit(shm.Request{Op: shm.OpCapture, FPT: 0x8001, MN: mnOld, Tag: 7}); err != nil {
		t.Fatal(err)
	}
	var got shm.Record
	for e := range ev {
		if e.State == shm.StateDone && e.Rec != nil {
			got = *e.Rec
			got.Data = append([]byte(nil), got.Data...)
			cx.Release(e.Slot)
			break
		}
	}
	if got.Tag != 7 || got.Status != shm.StatusOK {
		t.Fatalf("%+v", got)
	}
	c, _, err := Unmarshal(got.Data)
	if err != nil || len(c.SAs) != 2 || c.MN != mnOld {
		t.Fatal(c, err)
	}
	stop()
	<-done
	_ = netip.Addr{}
}
