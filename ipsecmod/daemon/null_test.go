package daemon

import (
	"context"
	"net"
	"net/netip"

	"github.com/ikectx/ikectx/pfkey"
)

func listenUnix(path string) (net.Listener, error) { return net.Listen("unix", path) }

// nullKernel is an empty SAD/SPD.
type nullKernel struct{}

func (nullKernel) Dialect() *pfkey.Dialect { return pfkey.Linux }
func (nullKernel) SAsFor(context.Context, netip.Addr) ([]*pfkey.SAEntry, error) {
	return nil, nil
}
func (nullKernel) PoliciesFor(context.Context, netip.Addr) ([]*pfkey.PolicyEntry, error) {
	return nil, nil
}
func (nullKernel) SAs(context.Context, pfkey.SAType) ([]*pfkey.SAEntry, error) { return nil, nil }
func (nullKernel) Policies(context.Context) ([]*pfkey.PolicyEntry, error)      { return nil, nil }
func (nullKernel) Add(context.Context, *pfkey.SAEntry) error                   { return nil }
func (nullKernel) Delete(context.Context, pfkey.SAType, netip.Addr, netip.Addr, uint32) error {
	return nil
}
func (nullKernel) SPDAdd(context.Context, *pfkey.PolicyEntry) error    { return nil }
func (nullKernel) SPDUpdate(context.Context, *pfkey.PolicyEntry) error { return nil }
func (nullKernel) SPDDelete(context.Context, *pfkey.PolicyEntry) error { return nil }
