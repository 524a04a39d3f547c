//go:build !linux

package scenario

import (
	"context"
	"errors"
)

// Main needs Linux namespaces, PF_KEY and AF_PACKET.
func Main(ctx context.Context, cfg Config) error {
	return errors.New("scenario: the testbed runs on Linux only (namespaces, PF_KEY, AF_PACKET)")
}
