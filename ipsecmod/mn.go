package ipsecmod

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/ikectx/ikectx/pfkey"
)

// MNMove describes the MN's handover for RewriteMN and PrepareMN.
type MNMove struct {
	OldCoA, NewCoA netip.Addr // the MN's care-of address at the pAR, at the nAR
	OldAR, NewAR   netip.Addr // the tunnel endpoints of the pAR and the nAR
}

// MNResult counts what RewriteMN (or PrepareMN + MNPlan.Activate) moved.
type MNResult struct {
	SAs, Policies int
}

// MNPlan is the MN's side of a handover split in two (PrepareMN, then
// Activate on the CTAA), so that the MN's own PF_KEY work does not delay
// its CTAR:
//
//   - PrepareMN (predictive mode: before the MN moves, when the handover
//     request has named the nAR and the nCoA; reactive mode: right after
//     the CTAR left) installs, with the same SPIs, keys and algorithms and
//     the addresses rewritten (old CoA -> new CoA, pAR -> nAR), the
//     policies whose selectors name the old CoA (outbound first) and the
//     SAs towards the MN. It holds back the SAs from the MN to the nAR.
//   - Activate (when the nAR's CTAA says the context is active there)
//     installs the held SAs, re-inserts the new outbound policies and
//     switches in place the policies whose selectors do not change: the
//     new path is open.
//   - Retire then deletes the old CoA's SAs and policies.
//
// Between the two, the MN's outbound traffic from its new CoA matches a
// policy whose SA is missing. On Linux with net.core.xfrm_larval_drop = 0
// (per network namespace) the kernel queues those packets on the policy
// (a dummy bundle, up to 100 packets) instead of dropping them, and sends
// an ACQUIRE (the MN's IKE daemon must not act on it: racoon's
// `passive on` for the access routers' remotes). The queue is re-examined
// on a timer (100 ms after the first packet, then doubling); a policy
// replaced by SADB_X_SPDUPDATE hands its queue to the new one and examines
// it at once (xfrm_policy_requeue), which is why Activate re-inserts the
// outbound policies after adding the held SAs: the queued packets leave
// right away into a nAR that has just activated the context, and none is
// lost to security set-up when the context arrived before the MN. With
// xfrm_larval_drop = 1 (Linux's default) and on FreeBSD (no such queue:
// the packet that raises the ACQUIRE is dropped) the packets sent between
// the move and the CTAA are lost instead; before the split they were sent
// to a nAR that had not activated the context yet, and lost there.
//
// On Linux the SA from the MN is not held in memory but parked: PrepareMN
// installs it under a reqid that no policy uses (xfrm_state_find looks
// for an outbound SA with the policy template's exact reqid, so no packet
// can use it yet), and Activate is a single SADB_X_SPDUPDATE that makes
// the outbound policy `unique` with that reqid: the same call re-inserts
// the policy, so the queued packets leave at once through the parked SA.
// The MN's IKE daemon later negotiates under that reqid, as racoon does
// for any `unique` policy. Elsewhere (FreeBSD) the SA is held and added
// by Activate.
//
// The held SAs' keys live in the plan until Activate installs them or Wipe
// clears them.
type MNPlan struct {
	Move MNMove
	// Prepared counts what PrepareMN installed.
	Prepared MNResult

	held    []*pfkey.SAEntry     // SAs from the new CoA, not installed yet (keys)
	kick    []*pfkey.PolicyEntry // new outbound policies, re-inserted after held
	parked  []*pfkey.PolicyEntry // outbound policies switched to a parked SA's reqid
	inPlace []*pfkey.PolicyEntry // selector unchanged: SPDUPDATE on activation
	oldSAs  []*pfkey.SAEntry     // to delete (no keys)
	oldPols []*pfkey.PolicyEntry // to delete (selector changed)
	done    bool
	retired bool
}

// RewriteMN moves the MN's own SAD and SPD to its new CoA and the nAR in
// one go (the paper's automatic update, section 4.1): PrepareMN followed
// at once by Activate and Retire. Every SA whose source or destination is the old CoA
// is added again with the same SPI, keys and algorithms and the addresses
// rewritten, every policy that names the old CoA as a host or tunnel
// endpoint likewise, then the old ones are deleted. Adding before deleting
// keeps the MN from ever having no SA for a policy.
//
// On Linux PF_KEY the re-added SAs start with a fresh replay window and
// sequence counter, as do the SAs installed on the nAR: both ends restart
// the SA state together (see the package documentation).
func RewriteMN(ctx context.Context, k Kernel, mv MNMove) (MNResult, error) {
	p, err := PrepareMN(ctx, k, mv)
	if err != nil {
		return MNResult{}, err
	}
	res, err := p.Activate(ctx, k)
	if err != nil {
		return res, err
	}
	return res, p.Retire(ctx, k)
}

// PrepareMN reads the MN's SAs and policies for the old CoA and installs
// the part of the move that does not make the MN send to the nAR yet (see
// MNPlan). A move that changes nothing gives an empty plan.
func PrepareMN(ctx context.Context, k Kernel, mv MNMove) (*MNPlan, error) {
	p := &MNPlan{Move: mv}
	if !mv.OldCoA.IsValid() || !mv.NewCoA.IsValid() {
		return nil, fmt.Errorf("ipsecmod: mn-rewrite: old and new care-of addresses are required")
	}
	if mv.OldCoA == mv.NewCoA && mv.OldAR == mv.NewAR {
		p.done = true
		return p, nil
	}
	rw := addrMap(mv.OldCoA, mv.NewCoA, mv.OldAR, mv.NewAR)
	d := k.Dialect()
	pols, err := k.PoliciesFor(ctx, mv.OldCoA)
	if err != nil {
		return nil, fmt.Errorf("ipsecmod: mn-rewrite %v -> %v: read policies: %w", mv.OldCoA, mv.NewCoA, err)
	}
	fail := func(err error) (*MNPlan, error) {
		p.Wipe()
		return nil, err
	}
	// Policies first, outbound first, before the SAD is even read: in
	// reactive mode the MN is already at its new CoA, its datagrams leave
	// in clear (and die at the nAR's discard policy) until the outbound
	// policy is in, and wait (queued) from then on.
	for pass := 0; pass < 2; pass++ {
		for _, old := range pols {
			if (old.Dir == pfkey.DirOutbound) != (pass == 0) {
				continue
			}
			np := rewritePolicy(old, rw)
			if sameSelector(old, np) {
				p.inPlace = append(p.inPlace, np)
				continue
			}
			err := k.SPDAdd(ctx, np)
			if isExist(err) {
				err = k.SPDUpdate(ctx, np)
			}
			if err != nil {
				return fail(fmt.Errorf("ipsecmod: mn-rewrite: add policy %v (was %v): %w", np, old, err))
			}
			p.Prepared.Policies++
			p.oldPols = append(p.oldPols, old)
			if np.Dir == pfkey.DirOutbound && np.Type == pfkey.PolicyIPsec {
				p.kick = append(p.kick, np)
			}
		}
	}
	sas, err := k.SAsFor(ctx, mv.OldCoA)
	if err != nil {
		return fail(fmt.Errorf("ipsecmod: mn-rewrite %v -> %v: read SAs: %w", mv.OldCoA, mv.NewCoA, err))
	}
	defer func() {
		for _, s := range sas {
			s.Wipe()
		}
	}()
	var park func() (uint32, error)
	if d == pfkey.Linux {
		park = parkedReqIDs(ctx, k, sas)
	}
	now := time.Now()
	for _, e := range sas {
		ne, err := installEntry(saFrom(e, d, now), d, rw)
		if err != nil {
			return fail(fmt.Errorf("ipsecmod: mn-rewrite: %w", err))
		}
		old := &pfkey.SAEntry{Type: e.Type, SPI: e.SPI, Src: e.Src, Dst: e.Dst}
		if ne.Src == e.Src && ne.Dst == e.Dst {
			ne.Wipe() // nothing moves for this SA
			continue
		}
		p.oldSAs = append(p.oldSAs, old)
		if sameAddr(e.Src, mv.OldCoA) {
			// from the MN: parked (Linux) or held until the CTAA
			if i := p.kickFor(ne); park != nil && i >= 0 {
				reqid, err := park()
				if err != nil {
					return fail(fmt.Errorf("ipsecmod: mn-rewrite: park SA %v: %w", ne, err))
				}
				ne.ReqID = reqid
				err = k.Add(ctx, ne)
				ne.Wipe()
				if err != nil {
					return fail(fmt.Errorf("ipsecmod: mn-rewrite: park SA %v (was %v) under reqid %d: %w", ne, e, reqid, err))
				}
				p.Prepared.SAs++
				p.parked = append(p.parked, switchReqID(p.kick[i], ne, reqid))
				p.kick = slices.Delete(p.kick, i, i+1)
				continue
			}
			p.held = append(p.held, ne)
			continue
		}
		err = k.Add(ctx, ne)
		ne.Wipe()
		if err != nil && !isExist(err) {
			return fail(fmt.Errorf("ipsecmod: mn-rewrite: add SA %v (was %v): %w", ne, e, err))
		}
		p.Prepared.SAs++
	}
	return p, nil
}

// kickFor is the index in p.kick of the outbound policy whose tunnel
// request ends at sa's addresses, or -1.
func (p *MNPlan) kickFor(sa *pfkey.SAEntry) int {
	for i, np := range p.kick {
		for _, r := range np.Requests {
			if r.Mode == pfkey.ModeTunnel && r.Proto == pfkey.ProtoESP && sa.Type == pfkey.SATypeESP &&
				sameAddr(r.Src.Addr(), sa.Src) && sameAddr(r.Dst.Addr(), sa.Dst) {
				return i
			}
		}
	}
	return -1
}

// switchReqID is np with its request towards sa made `unique` under reqid.
func switchReqID(np *pfkey.PolicyEntry, sa *pfkey.SAEntry, reqid uint32) *pfkey.PolicyEntry {
	q := np.Clone()
	for i := range q.Requests {
		r := &q.Requests[i]
		if r.Mode == pfkey.ModeTunnel && sameAddr(r.Src.Addr(), sa.Src) && sameAddr(r.Dst.Addr(), sa.Dst) {
			r.Level, r.ReqID = pfkey.LevelUnique, reqid
		}
	}
	return q
}

// maxManualReqID is the largest reqid Linux PF_KEY keeps as given for a
// `unique` request (IPSEC_MANUAL_REQID_MAX); larger ones are replaced.
const maxManualReqID = 0x3fff

// parkedReqIDs returns a source of reqids for parked SAs: from
// maxManualReqID down, skipping those any policy or the MN's SAs use.
func parkedReqIDs(ctx context.Context, k Kernel, sas []*pfkey.SAEntry) func() (uint32, error) {
	used := map[uint32]bool{0: true}
	for _, s := range sas {
		used[s.ReqID] = true
	}
	pols, err := k.Policies(ctx)
	next := uint32(maxManualReqID)
	return func() (uint32, error) {
		if err != nil {
			return 0, fmt.Errorf("read the SPD for a free reqid: %w", err)
		}
		for _, p := range pols {
			for _, r := range p.Requests {
				used[r.ReqID] = true
			}
		}
		pols = nil
		for ; next > 0; next-- {
			if !used[next] {
				used[next] = true
				return next, nil
			}
		}
		return 0, fmt.Errorf("no free reqid up to %d", maxManualReqID)
	}
}

// Held is the number of SAs (from the MN to the nAR) Activate will add.
func (p *MNPlan) Held() int { return len(p.held) }

// Activate opens the new path once the nAR's context is active (its
// CTAA): it adds the held SAs, re-inserts the new outbound policies so
// that Linux sends the packets it queued for them at once (see MNPlan),
// and switches the policies whose selectors do not change. The result
// counts the whole move (PrepareMN's entries included). A plan activates
// once; Retire removes the old entries afterwards.
func (p *MNPlan) Activate(ctx context.Context, k Kernel) (MNResult, error) {
	res := p.Prepared
	if p.done {
		return res, nil
	}
	defer p.Wipe()
	for _, ne := range p.held {
		if err := k.Add(ctx, ne); err != nil && !isExist(err) {
			return res, fmt.Errorf("ipsecmod: mn-rewrite: add SA %v: %w", ne, err)
		}
		ne.Wipe()
		res.SAs++
	}
	for _, np := range p.parked {
		if err := k.SPDUpdate(ctx, np); err != nil {
			return res, fmt.Errorf("ipsecmod: mn-rewrite: switch policy %v to its parked SA: %w", np, err)
		}
	}
	if len(p.held) > 0 && k.Dialect() == pfkey.Linux {
		for _, np := range p.kick {
			if err := k.SPDUpdate(ctx, np); err != nil {
				return res, fmt.Errorf("ipsecmod: mn-rewrite: re-insert policy %v: %w", np, err)
			}
		}
	}
	for _, np := range p.inPlace {
		if err := k.SPDUpdate(ctx, np); err != nil {
			return res, fmt.Errorf("ipsecmod: mn-rewrite: update policy %v: %w", np, err)
		}
		res.Policies++
	}
	return res, nil
}

// Retire deletes the old CoA's SAs and policies, once the new path is
// open (after Activate; entries already gone are no error). It retires
// once.
func (p *MNPlan) Retire(ctx context.Context, k Kernel) error {
	if p.retired {
		return nil
	}
	p.retired = true
	for _, e := range p.oldSAs {
		if err := k.Delete(ctx, e.Type, e.Src, e.Dst, e.SPI); err != nil && !isNotExistK(err) {
			return fmt.Errorf("ipsecmod: mn-rewrite: delete SA %v: %w", e, err)
		}
	}
	for _, old := range p.oldPols {
		if err := k.SPDDelete(ctx, old); err != nil && !isNotExistK(err) {
			return fmt.Errorf("ipsecmod: mn-rewrite: delete policy %v: %w", old, err)
		}
	}
	return nil
}

// Wipe clears the keys of the SAs the plan still holds; the plan cannot be
// activated afterwards.
func (p *MNPlan) Wipe() {
	for _, e := range p.held {
		e.Wipe()
	}
	p.held = nil
	p.done = true
}

func sameSelector(a, b *pfkey.PolicyEntry) bool {
	return a.Src == b.Src && a.Dst == b.Dst && a.SrcPort == b.SrcPort && a.DstPort == b.DstPort &&
		a.Proto == b.Proto && a.Dir == b.Dir
}
