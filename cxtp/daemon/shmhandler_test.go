package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikectx/ikectx/cxtp"
	"github.com/ikectx/ikectx/cxtp/daemon/testmod"
	"github.com/ikectx/ikectx/cxtp/engine"
	"github.com/ikectx/ikectx/shm"
)

// TestModuleHandlerThroughSHM drives the four operations through a real
// segment to an in-process testmod (the e2e test does it across processes).
func TestModuleHandlerThroughSHM(t *testing.T) {
	dir := t.TempDir()
	opts := &shm.Options{Dir: dir, Slots: 8, Rescan: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := OpenBroker(ctx, "/cxtp-unit", opts, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	h := &ModuleHandler{B: b, FPT: 0x80ff, Name: "testmod"}
	mn := engine.MN{Prev: netip.MustParseAddr("2001:db8:1::100"), New: netip.MustParseAddr("2001:db8:2::100")}

	// No module yet: the call times out and the request is withdrawn.
	short, c2 := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = h.Capture(short, mn)
	c2()
	if err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("want timeout, got %v", err)
	}

	seg, err := shm.Open("/cxtp-unit", shm.RoleContext, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	mdir := t.TempDir()
	m := &testmod.Module{Seg: seg, Dir: mdir, FPTs: map[uint16]bool{0x80ff: true}}
	go m.Run(ctx)

	wait, c3 := context.WithTimeout(ctx, 10*time.Second)
	defer c3()
	if _, err := h.Capture(wait, mn); err == nil || !strings.Contains(err.Error(), "no context") {
		t.Fatalf("capture of an unknown MN: %v", err)
	}
	data := bytes.Repeat([]byte{7}, 600)
	os.WriteFile(filepath.Join(mdir, "ctx-"+testmod.FileName(mn.Prev)+".bin"), data, 0o644)
	got, err := h.Capture(wait, mn)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("capture: %v (%d bytes)", err, len(got))
	}
	if err := h.PreInstall(wait, mn, data); err != nil {
		t.Fatal(err)
	}
	if err := h.Activate(wait, mn); err != nil {
		t.Fatal(err)
	}
	coa, _ := os.ReadFile(filepath.Join(mdir, "active-"+testmod.FileName(mn.Prev)+".coa"))
	if strings.TrimSpace(string(coa)) != mn.New.String() {
		t.Fatalf("activated with %q", coa)
	}
	h.Discard(wait, mn)
	other := &ModuleHandler{B: b, FPT: 0x1234, Name: "testmod"}
	if err := other.PreInstall(wait, mn, data); err == nil {
		t.Fatal("unsupported FPT accepted")
	}
}

// TestModuleBatchThroughSHM: one CTAR's activations of several FPTs of a
// module go through the segment in one round (posted together, one wake-up signal);
// each FPT gets its own result.
func TestModuleBatchThroughSHM(t *testing.T) {
	dir := t.TempDir()
	opts := &shm.Options{Dir: dir, Slots: 8, Rescan: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := OpenBroker(ctx, "/cxtp-unit-batch", opts, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mn := engine.MN{Prev: netip.MustParseAddr("2001:db8:1::100"), New: netip.MustParseAddr("2001:db8:2::100")}
	batch := &ModuleBatch{B: b, Name: "testmod"}
	hA := &ModuleHandler{B: b, FPT: 0x80fe, Name: "testmod", Batch: batch}
	hB := &ModuleHandler{B: b, FPT: 0x80ff, Name: "testmod", Batch: batch, AfterAck: true}
	if hA.ActivationBatch() != hB.ActivationBatch() || hA.ActivateAfterAck() || !hB.ActivateAfterAck() {
		t.Fatal("handler extensions")
	}
	if (&ModuleHandler{B: b}).ActivationBatch() != nil {
		t.Fatal("a handler without a batch must return a nil BatchActivator")
	}

	// No module: both requests are in the table together (posted before
	// the one wake-up), then time out and are withdrawn.
	short, c1 := context.WithCancel(ctx)
	res := make(chan []error, 1)
	go func() { res <- batch.ActivateBatch(short, mn, []cxtp.FPT{0x80fe, 0x80ff}) }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		im, err := shm.Inspect("/cxtp-unit-batch", opts)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, sl := range im.Slots {
			if sl.State == shm.StateRequest {
				n++
			}
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests posted, want 2", n)
		}
	}
	c1()
	errs := <-res
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "did not answer") {
			t.Fatalf("FPT %d: want timeout, got %v", i, err)
		}
	}

	seg, err := shm.Open("/cxtp-unit-batch", shm.RoleContext, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	mdir := t.TempDir()
	m := &testmod.Module{Seg: seg, Dir: mdir, FPTs: map[uint16]bool{0x80fe: true, 0x80ff: true}}
	go m.Run(ctx)
	wait, c2 := context.WithTimeout(ctx, 10*time.Second)
	defer c2()
	if err := hA.PreInstall(wait, mn, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	errs = batch.ActivateBatch(wait, mn, []cxtp.FPT{0x80fe, 0x1234, 0x80ff})
	if len(errs) != 3 || errs[0] != nil || errs[2] != nil {
		t.Fatalf("batch: %v", errs)
	}
	if errs[1] == nil || !strings.Contains(errs[1].Error(), "FPT 4660") || !strings.Contains(errs[1].Error(), "module testmod") {
		t.Fatalf("the unsupported FPT must fail with its own error: %v", errs[1])
	}
	coa, _ := os.ReadFile(filepath.Join(mdir, "active-"+testmod.FileName(mn.Prev)+".coa"))
	if strings.TrimSpace(string(coa)) != mn.New.String() {
		t.Fatalf("activated with %q", coa)
	}
}
