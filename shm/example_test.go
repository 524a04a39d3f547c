package shm_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"

	"github.com/ikectx/ikectx/shm"
)

// Both modules of Figure 3 in one program: the CXTP module asks for an
// MN's context, the context module captures it.
func Example() {
	dir, _ := os.MkdirTemp("", "shm-example")
	defer os.RemoveAll(dir)
	opts := &shm.Options{Dir: dir, Slots: 8} // Dir: Linux only
	defer shm.Unlink("/ikectx-example", opts)
	cxtp, err := shm.Open("/ikectx-example", shm.RoleCXTP, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cxtp.Close()
	module, err := shm.Open("/ikectx-example", shm.RoleContext, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer module.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The context module serves requests.
	reqs, _ := module.Events(ctx)
	go func() {
		for e := range reqs {
			req, err := module.Accept(e.Slot)
			if err != nil {
				continue
			}
			module.Complete(e.Slot, shm.StatusOK, []byte("context of "+req.MN.String()))
		}
	}()

	// The CXTP module asks and waits for the result.
	results, _ := cxtp.Events(ctx)
	mn := netip.MustParseAddr("2001:db8:1::10")
	if _, err := cxtp.Submit(shm.Request{Op: shm.OpCapture, FPT: 0xfff0, MN: mn, Tag: 1}); err != nil {
		fmt.Println(err)
		return
	}
	e := <-results
	fmt.Printf("%v %v tag %d: %s\n", e.Rec.Op, e.Rec.Status, e.Rec.Tag, e.Rec.Data)
	cxtp.Release(e.Slot)
	// Output: CAPTURE ok tag 1: context of 2001:db8:1::10
}
