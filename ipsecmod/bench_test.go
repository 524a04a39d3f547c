package ipsecmod

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/ikectx/ikectx/pfkey"
)

// benchKernels builds a pAR holding n SAs (and one policy per pair) for
// the MN, and an empty nAR with its discard policies.
func benchKernels(n int) (*fakeKernel, *fakeKernel) {
	pk := newFakeKernel()
	for i := range n {
		src, dst := mnOld, par
		if i%2 == 1 {
			src, dst = par, mnOld
		}
		pk.sas = append(pk.sas, tunnelSA(0x1000+uint32(i), src, dst, byte(i)))
	}
	for i := 0; i < max(1, n/2); i++ {
		p := tunnelPolicy(pfkey.DirInbound, mnOld, par)
		p.SrcPort = uint16(1000 + i)
		pk.pols = append(pk.pols, p)
	}
	return pk, narKernel()
}

// BenchmarkCaptureInstall measures, per context, the module's own cost of
// capture on the pAR and of pre-install + activation on the nAR, against
// in-memory kernels (the lab test measures the real PF_KEY cost), for
// 1, 2, 8 and 32 SAs.
func BenchmarkCaptureInstall(b *testing.B) {
	for _, n := range []int{1, 2, 8, 32} {
		pk, _ := benchKernels(n)
		pm := newModule(b, pk, par, nil)
		b.Run(fmt.Sprintf("capture/sas=%d", n), func(b *testing.B) {
			for b.Loop() {
				for _, k := range []Kind{KindSA, KindSP} {
					d, err := pm.Capture(bg, k, mnOld)
					if err != nil {
						b.Fatal(err)
					}
					clear(d)
				}
			}
		})
		sa, _ := pm.Capture(bg, KindSA, mnOld)
		sp, _ := pm.Capture(bg, KindSP, mnOld)
		b.Run(fmt.Sprintf("install/sas=%d", n), func(b *testing.B) {
			for b.Loop() {
				nk := narKernel()
				m := newModule(b, nk, nar, nil)
				if err := m.PreInstall(bg, KindSA, mnOld, netip.Addr{}, sa); err != nil {
					b.Fatal(err)
				}
				if err := m.PreInstall(bg, KindSP, mnOld, netip.Addr{}, sp); err != nil {
					b.Fatal(err)
				}
				if err := m.Activate(bg, KindSA, mnOld, mnNew); err != nil {
					b.Fatal(err)
				}
				if err := m.Activate(bg, KindSP, mnOld, mnNew); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
