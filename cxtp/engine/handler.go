package engine

import (
	"context"
	"fmt"
	"net/netip"
	"sort"

	"github.com/ikectx/ikectx/cxtp"
)

// MN identifies a mobile node's transfer to a handler.
type MN struct {
	// Prev is the MN's previous care-of address: the key of its context.
	Prev netip.Addr
	// New is its new care-of address, once known (on Activate; also on
	// PreInstall in reactive mode).
	New netip.Addr
	// PeerAR is the other router: the nAR on the pAR, the pAR on the nAR.
	PeerAR netip.Addr
}

// Handler moves the contexts of one Feature Profile Type. On the pAR the
// engine calls Capture; on the nAR PreInstall when a context arrives,
// Activate when the MN's CTAR is verified, Discard when it expires, is
// cancelled or was not requested. Methods are called with the engine's lock
// held and must honour ctx.
type Handler interface {
	Capture(ctx context.Context, mn MN) ([]byte, error)
	PreInstall(ctx context.Context, mn MN, data []byte) error
	Activate(ctx context.Context, mn MN) error
	Discard(ctx context.Context, mn MN)
}

// Releaser is an optional Handler extension for the pAR: after the nAR's
// CTDR the engine tells each handler whose context was sent how the nAR
// fared (StatusSuccess when it holds it). The module decides what the pAR
// keeps: delete the MN's state now, keep it until its lifetime, or keep it
// for a fast return. Without a Releaser the pAR keeps everything.
type Releaser interface {
	Transferred(ctx context.Context, mn MN, st cxtp.Status)
}

// Registration is a handler with its FPT.
type Registration struct {
	FPT     cxtp.FPT
	Handler Handler
	// KeyMaterial marks contexts that carry keys: they are sent only over
	// protected channels.
	KeyMaterial bool
}

// Registry maps FPTs to handlers.
type Registry struct {
	regs map[cxtp.FPT]Registration
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{regs: map[cxtp.FPT]Registration{}} }

// Register adds a handler; an FPT may be registered once, and FPT 0 never
// (it means "all" in requests).
func (r *Registry) Register(reg Registration) error {
	if reg.FPT == cxtp.FPTAll {
		return fmt.Errorf("engine: FPT 0 is reserved")
	}
	if reg.Handler == nil {
		return fmt.Errorf("engine: FPT %d: nil handler", reg.FPT)
	}
	if _, dup := r.regs[reg.FPT]; dup {
		return fmt.Errorf("engine: FPT %d registered twice", reg.FPT)
	}
	r.regs[reg.FPT] = reg
	return nil
}

// Lookup returns the registration of an FPT.
func (r *Registry) Lookup(f cxtp.FPT) (Registration, bool) {
	reg, ok := r.regs[f]
	return reg, ok
}

// FPTs returns the registered FPTs in order.
func (r *Registry) FPTs() []cxtp.FPT {
	out := make([]cxtp.FPT, 0, len(r.regs))
	for f := range r.regs {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// AfterAck is an optional Handler extension for the nAR. A handler whose
// context does not carry the MN's traffic (an IKE SA: the kernel's SAs and
// policies do) returns true, and the engine activates it after the CTAA
// has left, so the MN's path does not wait for it. The CTAA still means
// "every FPT that carries your traffic is active"; it cannot report a
// failure of an FPT activated after it: that failure is logged and goes to
// the pAR in the CTDR (sent after every activation), and the module counts
// it.
type AfterAck interface {
	ActivateAfterAck() bool
}

// Batcher is an optional Handler extension: handlers that return the same
// non-nil BatchActivator are activated together in one ActivateBatch call
// when a CTAR switches on several of their FPTs (cxtpd: the FPTs of one
// context module in one round through shared memory and one wake-up signal
// instead of one round per FPT).
type Batcher interface {
	ActivationBatch() BatchActivator
}

// BatchActivator activates several FPTs of one MN; the result has one
// error (or nil) per FPT, in order. The FPTs are given in the engine's
// order (ascending), which the activator keeps.
type BatchActivator interface {
	ActivateBatch(ctx context.Context, mn MN, fpts []cxtp.FPT) []error
}
