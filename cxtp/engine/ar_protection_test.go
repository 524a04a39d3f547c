package engine

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/ikectx/ikectx/cxtp"
)

// spdChecker is a ProtectionChecker whose answer the test sets.
type spdChecker struct{ err error }

func (c *spdChecker) Protected(peer netip.Addr) bool       { return c.err == nil }
func (c *spdChecker) CheckProtected(peer netip.Addr) error { return c.err }

// TestProtectionCheckerReason: when the Protection can say why a channel
// is not protected, the refusal names the peer and that reason, and
// matches ErrUnprotected; once the channel is protected the PCTD goes.
func TestProtectionCheckerReason(t *testing.T) {
	why := errors.New("no outbound IPsec policy selects the traffic")
	chk := &spdChecker{err: why}
	w := newWorld(t, func(p, n *ARConfig) { p.Protection = chk })
	_, err := w.par.Trigger(aMN, aNAR)
	var ue *UnprotectedError
	if !errors.Is(err, ErrUnprotected) || !errors.Is(err, why) || !errors.As(err, &ue) || ue.Peer != aNAR {
		t.Fatalf("refusal: %v", err)
	}
	if !strings.Contains(err.Error(), aNAR.String()) || !strings.Contains(err.Error(), why.Error()) {
		t.Fatalf("error %q does not name the peer and the reason", err)
	}
	if len(w.sent(cxtp.TypePCTD)) != 0 || w.par.Metrics().Rejected[ReasonUnprotected] != 1 {
		t.Fatalf("PCTD sent or not counted: %+v", w.par.Metrics())
	}
	chk.err = nil
	if _, err := w.par.Trigger(aMN, aNAR); err != nil || len(w.sent(cxtp.TypePCTD)) != 1 {
		t.Fatalf("protected channel: %v, %d PCTD", err, len(w.sent(cxtp.TypePCTD)))
	}
}
