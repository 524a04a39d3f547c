package ipsecmod

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/ikectx/ikectx/pfkey"
)

// MNMove describes the MN's handover for RewriteMN.
type MNMove struct {
	OldCoA, NewCoA netip.Addr // the MN's care-of address at the pAR, at the nAR
	OldAR, NewAR   netip.Addr // the tunnel endpoints of the pAR and the nAR
}

// MNResult counts what RewriteMN moved.
type MNResult struct {
	SAs, Policies int
}

// RewriteMN moves the MN's own SAD and SPD to its new CoA and the nAR
// (the paper's automatic update, section 4.1): every SA whose source or
// destination is the old CoA is added again with the same SPI, keys and
// algorithms and the addresses rewritten (old CoA -> new CoA, pAR -> nAR),
// then the old one is deleted; every policy that names the old CoA as a
// host or tunnel endpoint likewise. Adding before deleting keeps the MN
// from ever having no SA for a policy.
//
// On Linux PF_KEY the re-added SAs start with a fresh replay window and
// sequence counter, as do the SAs installed on the nAR: both ends restart
// the SA state together (see the package documentation).
func RewriteMN(ctx context.Context, k Kernel, mv MNMove) (MNResult, error) {
	var res MNResult
	if !mv.OldCoA.IsValid() || !mv.NewCoA.IsValid() {
		return res, fmt.Errorf("ipsecmod: mn-rewrite: old and new care-of addresses are required")
	}
	if mv.OldCoA == mv.NewCoA && mv.OldAR == mv.NewAR {
		return res, nil
	}
	rw := addrMap(mv.OldCoA, mv.NewCoA, mv.OldAR, mv.NewAR)
	d := k.Dialect()
	sas, err := k.SAsFor(ctx, mv.OldCoA)
	if err != nil {
		return res, fmt.Errorf("ipsecmod: mn-rewrite %v -> %v: read SAs: %w", mv.OldCoA, mv.NewCoA, err)
	}
	defer func() {
		for _, s := range sas {
			s.Wipe()
		}
	}()
	pols, err := k.PoliciesFor(ctx, mv.OldCoA)
	if err != nil {
		return res, fmt.Errorf("ipsecmod: mn-rewrite %v -> %v: read policies: %w", mv.OldCoA, mv.NewCoA, err)
	}
	now := time.Now()
	for _, e := range sas {
		ne, err := installEntry(saFrom(e, d, now), d, rw)
		if err != nil {
			return res, fmt.Errorf("ipsecmod: mn-rewrite: %w", err)
		}
		err = k.Add(ctx, ne)
		ne.Wipe()
		if err != nil && !isExist(err) {
			return res, fmt.Errorf("ipsecmod: mn-rewrite: add SA %v (was %v): %w", ne, e, err)
		}
		if err := k.Delete(ctx, e.Type, e.Src, e.Dst, e.SPI); err != nil && !isNotExistK(err) {
			return res, fmt.Errorf("ipsecmod: mn-rewrite: delete SA %v: %w", e, err)
		}
		res.SAs++
	}
	for _, p := range pols {
		np := rewritePolicy(p, rw)
		err := k.SPDAdd(ctx, np)
		if isExist(err) {
			err = k.SPDUpdate(ctx, np)
		}
		if err != nil {
			return res, fmt.Errorf("ipsecmod: mn-rewrite: add policy %v (was %v): %w", np, p, err)
		}
		if sameSelector(p, np) {
			res.Policies++ // replaced in place by the update
			continue
		}
		if err := k.SPDDelete(ctx, p); err != nil && !isNotExistK(err) {
			return res, fmt.Errorf("ipsecmod: mn-rewrite: delete policy %v: %w", p, err)
		}
		res.Policies++
	}
	return res, nil
}

func sameSelector(a, b *pfkey.PolicyEntry) bool {
	return a.Src == b.Src && a.Dst == b.Dst && a.SrcPort == b.SrcPort && a.DstPort == b.DstPort &&
		a.Proto == b.Proto && a.Dir == b.Dir
}
