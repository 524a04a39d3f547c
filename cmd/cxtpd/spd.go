package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/ikectx/ikectx/pfkey"
)

// spdChecker is cxtpd's daemon.CheckChannel: it reads the SPD of cxtpd's
// network namespace through PF_KEY and checks that the outbound AR-AR
// traffic to a peer leaves only under ESP (pfkey.CheckFlow). One PF_KEY
// socket is kept open (opening and closing one per check costs the kernel
// more than the dump); it is reopened after an error.
type spdChecker struct {
	mu sync.Mutex
	c  *pfkey.Conn
}

func (s *spdChecker) check(ctx context.Context, local, peer netip.Addr, proto uint8, localPort, peerPort uint16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		c, err := pfkey.Open()
		if err != nil {
			return fmt.Errorf("cannot read the SPD through PF_KEY: %w", err)
		}
		s.c = c
	}
	err := s.c.CheckFlow(ctx, pfkey.Flow{Src: local, Dst: peer, Proto: pfkey.Proto(proto), SrcPort: localPort, DstPort: peerPort})
	if err != nil && !isPolicyVerdict(err) {
		s.c.Close()
		s.c = nil
	}
	return err
}

// isPolicyVerdict tells a verdict on the policies from a socket failure.
func isPolicyVerdict(err error) bool {
	for _, v := range []error{pfkey.ErrNoPolicy, pfkey.ErrPolicyNotIPsec, pfkey.ErrNoESPRequired} {
		if errors.Is(err, v) {
			return true
		}
	}
	return false
}
