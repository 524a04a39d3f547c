//go:build linux

package scenario

import (
	"context"
	"errors"

	"github.com/ikectx/ikectx/testbed/topo"
)

// charonCannotRun: the strongSwan row needs package testbed/strongswan
// (charon with kernel-netlink in the lab), not in this tree yet.
func charonCannotRun(cfg Config) string {
	return "the strongSwan runner (package testbed/strongswan) is not in this tree yet"
}

func (s *station) startCharons(ctx context.Context, narConns []topo.IKEv2Conn) (ikev2Daemons, error) {
	return ikev2Daemons{}, errors.New(charonCannotRun(s.cfg))
}
