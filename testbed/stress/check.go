package stress

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"

	"github.com/ikectx/ikectx/ikev2"
	"github.com/ikectx/ikectx/pfkey"
)

type tuple struct {
	src, dst netip.Addr
	spi      uint32
}

func tupleOf(e *pfkey.SAEntry) tuple { return tuple{e.Src.WithZone(""), e.Dst.WithZone(""), e.SPI} }

func sameKeys(e *pfkey.SAEntry, enc, auth []byte) bool {
	return bytes.Equal(e.Keys.Enc, enc) && bytes.Equal(e.Keys.Auth, auth)
}

// check verifies the end state: every MN has exactly one IKE SA, with the
// nAR, whose SPIs and children (SPIs, keys) the nAR's IKE SA matches; the
// nAR's SAD holds exactly one SA per (MN, child, direction) with those
// keys, no two SAs the lookup rule cannot tell apart, every pre-filled SA
// as it was, and the other MNs' IKE SAs. It returns each MN's view (for
// the traffic check) and the problems found.
func (r *run) check(ctx context.Context) ([]MNSAs, []string) {
	var probs []string
	bad := func(format string, args ...any) {
		if len(probs) < 200 {
			probs = append(probs, fmt.Sprintf(format, args...))
		}
	}
	for _, x := range r.res {
		if x.Err != "" {
			bad("MN %d: %s", x.Index, x.Err)
		}
	}
	sad, err := r.narK.SAs(ctx, pfkey.SATypeUnspec)
	if err != nil {
		return nil, []string{"read the nAR's SAD: " + err.Error()}
	}
	defer func() {
		for _, e := range sad {
			e.Wipe()
		}
	}()
	byTuple := map[tuple][]*pfkey.SAEntry{}
	bySPI := map[uint32][]*pfkey.SAEntry{}
	for _, e := range sad {
		byTuple[tupleOf(e)] = append(byTuple[tupleOf(e)], e)
		bySPI[e.SPI] = append(bySPI[e.SPI], e)
		if e.State == pfkey.SAStateLarval {
			bad("nAR SAD: larval SA left: %v->%v spi 0x%08x", e.Src, e.Dst, e.SPI)
		}
	}
	// No two SAs indistinguishable under the rule.
	for spi, es := range bySPI {
		for i := range es {
			for j := i + 1; j < len(es); j++ {
				if r.o.Rule.Collides(es[i], es[j]) {
					bad("nAR SAD: SPI 0x%08x: %v->%v and %v->%v collide under rule %v", spi, es[i].Src, es[i].Dst, es[j].Src, es[j].Dst, r.o.Rule)
				}
			}
		}
	}
	// The pre-filled SAs untouched.
	pre := map[*pfkey.SAEntry]bool{}
	for _, want := range r.prefill {
		found := false
		for _, e := range byTuple[tupleOf(want)] {
			if sameKeys(e, want.Keys.Enc, want.Keys.Auth) && e.ReqID == want.ReqID {
				found, pre[e] = true, true
			}
		}
		if !found {
			bad("nAR SAD: pre-filled SA %v->%v spi 0x%08x missing or changed", want.Src, want.Dst, want.SPI)
		}
	}
	// The other MNs' IKE SAs untouched, and one IKE SA per MN.
	narSAs := r.nar.SAs()
	byPair := map[[2]uint64]ikev2.SAState{}
	for _, s := range narSAs {
		byPair[[2]uint64{s.SPIi, s.SPIr}] = s
	}
	for _, o := range r.otherIK {
		if _, ok := byPair[o]; !ok {
			bad("nAR: another MN's IKE SA %016x_%016x missing or changed", o[0], o[1])
		}
	}
	if want := len(r.otherIK) + r.o.MNs; len(narSAs) != want {
		bad("nAR: %d IKE SAs, want %d (%d other MNs' + one per MN)", len(narSAs), want, len(r.otherIK))
	}
	// Per MN.
	perMN := map[netip.Addr]int{}
	for _, e := range sad {
		if pre[e] {
			continue
		}
		perMN[e.Src.WithZone("")]++
		perMN[e.Dst.WithZone("")]++
	}
	var views []MNSAs
	for i, m := range r.mns {
		ncoa := r.p.NCoA[i]
		ms := m.SAs()
		if len(ms) != 1 {
			bad("MN %d: %d IKE SAs, want 1", i, len(ms))
			continue
		}
		s := ms[0]
		if s.Remote.Addr() != r.p.NAR || s.Local.Addr() != ncoa || s.State != "ESTABLISHED" {
			bad("MN %d: IKE SA %v <-> %v (%s), want %v <-> %v", i, s.Local, s.Remote, s.State, ncoa, r.p.NAR)
			continue
		}
		ns, ok := byPair[[2]uint64{s.SPIi, s.SPIr}]
		if !ok || ns.Remote.Addr() != ncoa || ns.Local.Addr() != r.p.NAR {
			bad("MN %d: the nAR has no IKE SA %016x_%016x with %v", i, s.SPIi, s.SPIr, ncoa)
			continue
		}
		mx, err1 := m.Export(localSPI(s))
		nx, err2 := r.nar.Export(localSPI(ns))
		if err1 != nil || err2 != nil {
			bad("MN %d: export: %v %v", i, err1, err2)
			continue
		}
		if len(mx.Children) != r.o.Children || len(nx.Children) != r.o.Children {
			bad("MN %d: %d children on the MN, %d on the nAR, want %d", i, len(mx.Children), len(nx.Children), r.o.Children)
		}
		if !bytes.Equal(mx.SKd, nx.SKd) || !bytes.Equal(mx.SKei, nx.SKei) || !bytes.Equal(mx.SKer, nx.SKer) {
			bad("MN %d: IKE SA keys differ between the MN and the nAR", i)
		}
		if n := perMN[ncoa]; n != 2*len(mx.Children) {
			bad("MN %d: %d SAs with %v in the nAR's SAD, want %d (one per child and direction)", i, n, ncoa, 2*len(mx.Children))
		}
		for _, c := range mx.Children {
			var d *ikev2.ChildState
			for k := range nx.Children {
				if nx.Children[k].SPIIn == c.SPIOut && nx.Children[k].SPIOut == c.SPIIn {
					d = &nx.Children[k]
				}
			}
			if d == nil {
				bad("MN %d: child %08x/%08x has no counterpart on the nAR", i, c.SPIIn, c.SPIOut)
				continue
			}
			if !bytes.Equal(c.EncOut, d.EncIn) || !bytes.Equal(c.IntegOut, d.IntegIn) || !bytes.Equal(c.EncIn, d.EncOut) || !bytes.Equal(c.IntegIn, d.IntegOut) {
				bad("MN %d: child %08x/%08x: keys differ between the MN and the nAR", i, c.SPIIn, c.SPIOut)
			}
			in := byTuple[tuple{ncoa, r.p.NAR, d.SPIIn}]
			if len(in) != 1 || !sameKeys(in[0], d.EncIn, d.IntegIn) {
				bad("MN %d: nAR inbound SA %v->%v spi 0x%08x: %d found or keys differ", i, ncoa, r.p.NAR, d.SPIIn, len(in))
			}
			out := byTuple[tuple{r.p.NAR, ncoa, d.SPIOut}]
			if len(out) != 1 || !sameKeys(out[0], d.EncOut, d.IntegOut) {
				bad("MN %d: nAR outbound SA %v->%v spi 0x%08x: %d found or keys differ", i, r.p.NAR, ncoa, d.SPIOut, len(out))
			}
			// What the nAR's lookup finds for the MN's packets is the
			// MN's SA and nothing else.
			hs, err := r.o.Backend.Probe(r.o.Rule, d.SPIIn, ncoa, r.p.NAR)
			if err != nil || len(hs) != 1 || tupleOf(hs[0]) != (tuple{ncoa, r.p.NAR, d.SPIIn}) {
				bad("MN %d: the nAR's lookup (rule %v) for spi 0x%08x from %v finds %d SA(s) %v", i, r.o.Rule, d.SPIIn, ncoa, len(hs), err)
			}
			for _, h := range hs {
				h.Wipe()
			}
		}
		views = append(views, MNSAs{Index: i, HoA: r.p.HoA[i], NCoA: ncoa, Children: mx.Children})
		mx.Children = nil
		mx.Wipe()
		nx.Wipe()
	}
	return views, probs
}
