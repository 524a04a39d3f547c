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
