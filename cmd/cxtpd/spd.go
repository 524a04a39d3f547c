package main

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/ikectx/ikectx/pfkey"
)

// checkSPD is cxtpd's daemon.CheckChannel: it reads the SPD of cxtpd's
// network namespace through PF_KEY and checks that the outbound AR-AR
// traffic to peer leaves only under ESP (pfkey.CheckFlow).
func checkSPD(ctx context.Context, local, peer netip.Addr, proto uint8, localPort, peerPort uint16) error {
	c, err := pfkey.Open()
	if err != nil {
		return fmt.Errorf("cannot read the SPD through PF_KEY: %w", err)
	}
	defer c.Close()
	return c.CheckFlow(ctx, pfkey.Flow{Src: local, Dst: peer, Proto: pfkey.Proto(proto), SrcPort: localPort, DstPort: peerPort})
}
