//go:build lab && linux

package scenario

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ikectx/ikectx/testbed/report"
)

// TestLabTable1Short is the testbed's short run in the kernel lab: one
// handover per scenario that can run here. It checks that MN-HA traffic
// came back through the nAR's tunnel and the messages on the MN's access
// link: racoon's 11 (main + quick mode) and 8 (aggressive + quick mode)
// IKE frames, one CTAR of 106 bytes and one CTAA of 82 for a context
// transfer, after which a quick-mode rekey MN<->nAR on the phase 1 moved
// from the pAR succeeds (3 IKE frames, no new phase 1, traffic through
// the new SAs). Scenarios that cannot run (a binary not in the tree) skip with
// the reason.
func TestLabTable1Short(t *testing.T) {
	needLabVM(t)
	for _, sc := range report.Scenarios {
		if report.IsIKEv2(sc) {
			continue // TestLabTable1IKEv2Short
		}
		t.Run(sc, func(t *testing.T) {
			r, log := labRunOnce(t, sc, 1)
			var kinds []string
			count := map[string][]int{}
			for _, f := range r.Frames {
				kinds = append(kinds, fmt.Sprintf("%s %d", f.Kind, f.Len))
				count[f.Kind] = append(count[f.Kind], f.Len)
			}
			switch sc {
			case report.Main, report.Aggressive:
				want := map[string]int{report.Main: 11, report.Aggressive: 8}[sc]
				if len(count[report.KindIKE]) != want {
					t.Errorf("%d IKE frames, want %d: %s", len(count[report.KindIKE]), want, strings.Join(kinds, ", "))
				}
			default:
				if fmt.Sprint(count[report.KindCTAR]) != "[106]" || fmt.Sprint(count[report.KindCTAA]) != "[82]" {
					t.Errorf("frames %s, want one CTAR of 106 bytes and one CTAA of 82", strings.Join(kinds, ", "))
				}
				// the MN's cxtpd moved the MN (move_ipsec): its activation's
				// times came back in the attach answer
				if r.MNActivateMS <= 0 || r.CTAAMS <= 0 {
					t.Errorf("no MN move reported by cxtpd: activation %.1f ms, CTAA %.1f ms", r.MNActivateMS, r.CTAAMS)
				}
				// the quick-mode rekey MN<->nAR on the transferred phase 1
				if !r.Rekey || !r.RekeyOK {
					t.Errorf("rekey MN<->nAR: tried %v, %s\n%s", r.Rekey, r.RekeyError, log.String())
				} else {
					if r.RekeyFrames != 3 {
						t.Errorf("rekey: %d IKE frames, want the quick mode's 3", r.RekeyFrames)
					}
					t.Logf("%s: quick-mode rekey MN<->nAR %.1f ms, %d IKE frames %d bytes, one phase 1 (the pAR's) on the MN and the nAR", sc, r.RekeyMS, r.RekeyFrames, r.RekeyBytes)
				}
			}
			m, b, a, ab := r.Messages()
			t.Logf("%s: set-up delay %.1f ms, %d UDP lost (link change %.0f ms, %d lost), %d messages %d bytes [%d ack %d bytes]",
				sc, r.DelayMS, r.Lost, r.LinkChangeMS, r.LostLink, m, b, a, ab)
		})
	}
}
