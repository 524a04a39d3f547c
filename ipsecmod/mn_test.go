package ipsecmod

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/ikectx/ikectx/pfkey"
)

// mnKernel is the MN's SAD/SPD at its old CoA (in/out swapped with
// respect to the pAR's view).
func mnKernel() *fakeKernel {
	k := newFakeKernel()
	k.sas = []*pfkey.SAEntry{tunnelSA(0x1000, mnOld, par, 0x11), tunnelSA(0x2000, par, mnOld, 0x21)}
	out := tunnelPolicy(pfkey.DirInbound, mnOld, par)
	out.Dir = pfkey.DirOutbound
	in := tunnelPolicy(pfkey.DirOutbound, mnOld, par)
	in.Dir = pfkey.DirInbound
	k.pols = []*pfkey.PolicyEntry{in, out}
	return k
}

// TestPrepareActivateMN: the held path (FreeBSD, or a Linux policy with
// no tunnel request for the SA): the SA from the MN waits in the plan.
func TestPrepareActivateMN(t *testing.T) {
	k := mnKernel()
	k.d = pfkey.FreeBSD
	mv := MNMove{OldCoA: mnOld, NewCoA: mnNew, OldAR: par, NewAR: nar}
	p, err := PrepareMN(bg, k, mv)
	if err != nil {
		t.Fatal(err)
	}
	// Prepared: the SA towards the MN and both policies at the new
	// addresses, the outbound policy first; the SA from the MN held back;
	// nothing of the old CoA removed yet.
	if p.Prepared.SAs != 1 || p.Prepared.Policies != 2 || p.Held() != 1 {
		t.Fatal(p.Prepared, p.Held())
	}
	if !hasSA(k, 0x2000, nar, mnNew) || hasSA(k, 0x1000, mnNew, nar) || !hasSA(k, 0x1000, mnOld, par) || !hasSA(k, 0x2000, par, mnOld) {
		t.Fatal("after prepare:", k.sas)
	}
	if len(k.pols) != 4 {
		t.Fatal(k.pols)
	}
	var first *pfkey.PolicyEntry
	for _, q := range k.pols {
		if q.InvolvesHost(mnNew) {
			first = q
			break
		}
	}
	if first == nil || first.Dir != pfkey.DirOutbound || first.Requests[0].Dst.Addr() != nar {
		t.Fatal("the outbound policy must go in first:", k.pols)
	}
	held := p.held[0]
	if held.SPI != 0x1000 || held.Src != mnNew || held.Dst != nar || !bytes.Equal(held.Keys.Auth, rep(0x11, 20)) {
		t.Fatal(held)
	}
	k.calls = nil
	res, err := p.Activate(bg, k)
	if err != nil || res.SAs != 2 || res.Policies != 2 {
		t.Fatal(res, err)
	}
	// The held SA (FreeBSD has no queue to release: no re-insert); the
	// old entries go with Retire.
	if want := []string{"Add"}; !slices.Equal(k.calls, want) {
		t.Fatal(k.calls, "want", want)
	}
	if len(k.sas) != 4 || len(k.pols) != 4 {
		t.Fatal("activation removed old entries", k.sas, k.pols)
	}
	k.calls = nil
	if err := p.Retire(bg, k); err != nil {
		t.Fatal(err)
	}
	if want := []string{"Delete", "Delete", "SPDDelete", "SPDDelete"}; !slices.Equal(k.calls, want) {
		t.Fatal(k.calls, "want", want)
	}
	if !hasSA(k, 0x1000, mnNew, nar) || !hasSA(k, 0x2000, nar, mnNew) || len(k.sas) != 2 {
		t.Fatal(k.sas)
	}
	for _, q := range k.pols {
		if q.InvolvesHost(mnOld) || q.InvolvesHost(par) || !q.InvolvesHost(mnNew) || !q.InvolvesHost(nar) {
			t.Fatal(q)
		}
	}
	if len(k.pols) != 2 {
		t.Fatal(k.pols)
	}
	if !bytes.Equal(held.Keys.Auth, make([]byte, 20)) || !bytes.Equal(held.Keys.Enc, make([]byte, 16)) {
		t.Fatal("held keys not wiped after activation")
	}
	// A plan activates and retires once.
	k.calls = nil
	if _, err := p.Activate(bg, k); err != nil || len(k.calls) != 0 {
		t.Fatal(err, k.calls)
	}
	if err := p.Retire(bg, k); err != nil || len(k.calls) != 0 {
		t.Fatal(err, k.calls)
	}
}

func TestPrepareMNFreeBSDNoRequeue(t *testing.T) {
	k := mnKernel()
	k.d = pfkey.FreeBSD
	p, err := PrepareMN(bg, k, MNMove{OldCoA: mnOld, NewCoA: mnNew, OldAR: par, NewAR: nar})
	if err != nil {
		t.Fatal(err)
	}
	k.calls = nil
	if _, err := p.Activate(bg, k); err != nil {
		t.Fatal(err)
	}
	if k.count("SPDUpdate") != 0 {
		t.Fatal("FreeBSD has no queue to release:", k.calls)
	}
}

// TestPrepareActivateMNParked: on Linux the SA from the MN goes in at
// PrepareMN under a reqid no policy uses, and the CTAA costs one
// SADB_X_SPDUPDATE: the outbound policy made unique with that reqid.
func TestPrepareActivateMNParked(t *testing.T) {
	k := mnKernel()
	k.sas[0].ReqID = maxManualReqID // taken: the next one down is used
	p, err := PrepareMN(bg, k, MNMove{OldCoA: mnOld, NewCoA: mnNew, OldAR: par, NewAR: nar})
	if err != nil {
		t.Fatal(err)
	}
	if p.Held() != 0 || p.Prepared.SAs != 2 || p.Prepared.Policies != 2 {
		t.Fatal(p.Prepared, p.Held())
	}
	var parked *pfkey.SAEntry
	for _, s := range k.sas {
		if s.SPI == 0x1000 && s.Src == mnNew && s.Dst == nar {
			parked = s
		}
	}
	if parked == nil || parked.ReqID != maxManualReqID-1 {
		t.Fatal("parked SA:", parked)
	}
	out := func() *pfkey.PolicyEntry {
		for _, q := range k.pols {
			if q.Dir == pfkey.DirOutbound && q.InvolvesHost(mnNew) {
				return q
			}
		}
		return nil
	}
	if o := out(); o == nil || o.Requests[0].ReqID == parked.ReqID {
		t.Fatal("the outbound policy must not select the parked SA before the CTAA:", o)
	}
	k.calls = nil
	res, err := p.Activate(bg, k)
	if err != nil || res.SAs != 2 || res.Policies != 2 {
		t.Fatal(res, err)
	}
	if want := []string{"SPDUpdate"}; !slices.Equal(k.calls, want) {
		t.Fatal(k.calls, "want", want)
	}
	if o := out(); o == nil || o.Requests[0].Level != pfkey.LevelUnique || o.Requests[0].ReqID != parked.ReqID || o.Requests[0].Dst.Addr() != nar {
		t.Fatal("after the CTAA:", o)
	}
	if err := p.Retire(bg, k); err != nil || len(k.sas) != 2 || len(k.pols) != 2 {
		t.Fatal(err, k.sas, k.pols)
	}
	// The switch failing names the policy; the SPD failing to read stops
	// the preparation.
	k = mnKernel()
	if p, err = PrepareMN(bg, k, MNMove{OldCoA: mnOld, NewCoA: mnNew, OldAR: par, NewAR: nar}); err != nil {
		t.Fatal(err)
	}
	k.fail["SPDUpdate"] = errBoom
	if _, err := p.Activate(bg, k); err == nil || !strings.Contains(err.Error(), "parked SA") {
		t.Fatal(err)
	}
	k = mnKernel()
	k.fail["Policies"] = errBoom
	if _, err := PrepareMN(bg, k, MNMove{OldCoA: mnOld, NewCoA: mnNew, OldAR: par, NewAR: nar}); err == nil || !strings.Contains(err.Error(), "free reqid") {
		t.Fatal(err)
	}
}

func TestPrepareMNWipeAndErrors(t *testing.T) {
	k := mnKernel()
	k.d = pfkey.FreeBSD
	p, err := PrepareMN(bg, k, MNMove{OldCoA: mnOld, NewCoA: mnNew, OldAR: par, NewAR: nar})
	if err != nil {
		t.Fatal(err)
	}
	held := p.held[0]
	p.Wipe()
	if !bytes.Equal(held.Keys.Auth, make([]byte, 20)) {
		t.Fatal("Wipe left the held keys")
	}
	k.calls = nil
	if _, err := p.Activate(bg, k); err != nil || len(k.calls) != 0 {
		t.Fatal("a wiped plan must not activate", err, k.calls)
	}
	// A failing policy add names the policy; nothing is held afterwards.
	k = mnKernel()
	k.fail["SPDAdd"] = errBoom
	if _, err := PrepareMN(bg, k, MNMove{OldCoA: mnOld, NewCoA: mnNew, OldAR: par, NewAR: nar}); err == nil || !strings.Contains(err.Error(), "add policy") {
		t.Fatal(err)
	}
	// Activation's SA add failing names the SA.
	k = mnKernel()
	k.d = pfkey.FreeBSD
	p, err = PrepareMN(bg, k, MNMove{OldCoA: mnOld, NewCoA: mnNew, OldAR: par, NewAR: nar})
	if err != nil {
		t.Fatal(err)
	}
	k.fail["Add"] = errBoom
	if _, err := p.Activate(bg, k); err == nil || !strings.Contains(err.Error(), "spi 0x1000") {
		t.Fatal(err)
	}
	// Only the AR changes (same CoA): SAs not involving the AR stay put.
	k = mnKernel()
	p, err = PrepareMN(bg, k, MNMove{OldCoA: mnOld, NewCoA: mnOld, OldAR: par, NewAR: par})
	if err != nil || p.Held() != 0 {
		t.Fatal(err)
	}
	if res, err := p.Activate(bg, k); err != nil || res != (MNResult{}) || len(k.sas) != 2 {
		t.Fatal(res, err, k.sas)
	}
	if err := p.Retire(bg, k); err != nil || len(k.sas) != 2 {
		t.Fatal(err, k.sas)
	}
}
