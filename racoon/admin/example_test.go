package admin_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/ikectx/ikectx/racoon/admin"
)

// Moving a phase-1 SA from the previous access router's racoon to the new
// one's, as the IPsec-CXTP module does: export it by its addresses, carry
// the encoding (in a Context Data Block), import it with the new router's
// address.
func Example_transfer() {
	ctx := context.Background()
	pAR := &admin.Client{Path: "/var/racoon/racoon.sock"}
	pc, err := pAR.ExportPhase1(ctx, admin.Selector{
		Local:  netip.MustParseAddrPort("[2001:db8:1::1]:0"),
		Remote: netip.MustParseAddrPort("[2001:db8:1::100]:0"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	blob, err := pc.MarshalBinary() // what travels; wipe it after use
	pc.Wipe()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer clear(blob)

	// On the new access router:
	got, err := admin.ParsePhase1Context(blob)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer got.Wipe()
	nAR := &admin.Client{Path: "/var/racoon/racoon.sock"}
	err = nAR.ImportPhase1(ctx, got, netip.MustParseAddrPort("[2001:db8:2::1]:500"), netip.AddrPort{})
	fmt.Println(err)
}
