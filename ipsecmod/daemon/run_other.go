//go:build !linux && !freebsd

package daemon

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ikectx/ikectx/ipsecmod"
)

var errOS = errors.New("PF_KEY and the shm channel exist only on Linux and FreeBSD")

// Run is not available on this system.
func Run(ctx context.Context, c *Config, log *slog.Logger) error { return errOS }

// MNRewrite is not available on this system.
func MNRewrite(ctx context.Context, mv ipsecmod.MNMove) (ipsecmod.MNResult, error) {
	return ipsecmod.MNResult{}, errOS
}

// MN is not available on this system.
type MN struct{}

// OpenMN is not available on this system.
func OpenMN() (*MN, error) { return nil, errOS }

// Prepare is not available on this system.
func (m *MN) Prepare(ctx context.Context, mv ipsecmod.MNMove) (*ipsecmod.MNPlan, error) {
	return nil, errOS
}

// Activate is not available on this system.
func (m *MN) Activate(ctx context.Context, p *ipsecmod.MNPlan) (ipsecmod.MNResult, error) {
	return ipsecmod.MNResult{}, errOS
}

// Retire is not available on this system.
func (m *MN) Retire(ctx context.Context, p *ipsecmod.MNPlan) error { return errOS }

// Close does nothing.
func (m *MN) Close() error { return nil }
