//go:build lab && linux

package scenario

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ikectx/ikectx/testbed/report"
)

// TestLabTable1IKEv2Short runs each IKEv2 row of Table 1 once in the
// kernel lab: the full exchange by iked (and by charon when strongSwan is
// in the image), the IKEv2 context transfer with the nAR's MOBIKE, and the
// same with another MN's SAs on the nAR holding the transferred SPIs. It
// checks that MN-HA traffic came back through the nAR's tunnel, the CTAR
// of 106 bytes and the CTAA of 82, the MOBIKE exchange on the MN's link,
// and for the collision: repaired in one round trip with the colliding
// SPIs (ESP and IKE) in one request, MN2's flow through the nAR without a
// loss, the nAR's SAD with each SPI bound to its own MN and no SA lost.
func TestLabTable1IKEv2Short(t *testing.T) {
	needLabVM(t)
	for _, sc := range report.IKEv2Scenarios {
		t.Run(sc, func(t *testing.T) {
			r, log := labRunOnce(t, sc, 0.5)
			var kinds []string
			count := map[string][]int{}
			for _, f := range r.Frames {
				kinds = append(kinds, fmt.Sprintf("%s %d at +%.0f ms", f.Kind, f.Len, float64(f.At-r.Attach)/1e6))
				count[f.Kind] = append(count[f.Kind], f.Len)
			}
			switch sc {
			case report.IKEv2Iked, report.IKEv2Charon:
				// IKE_SA_INIT and IKE_AUTH, requests and responses
				if n := len(count[report.KindIKE]); n < 4 {
					t.Errorf("%d IKE frames, want at least 4: %s", n, strings.Join(kinds, ", "))
				}
			default:
				if fmt.Sprint(count[report.KindCTAR]) != "[106]" || fmt.Sprint(count[report.KindCTAA]) != "[82]" {
					t.Errorf("frames %s, want one CTAR of 106 bytes and one CTAA of 82", strings.Join(kinds, ", "))
				}
				if n := len(count[report.KindIKE]); n < 2 {
					t.Errorf("%d IKE frames, want the nAR's MOBIKE request and the MN's response: %s", n, strings.Join(kinds, ", "))
				}
				x := r.IKEv2
				if x == nil {
					t.Fatal("no IKEv2 outcome")
				}
				if x.RoundTrips != 1 || x.Fallback || x.MoveError != "" {
					t.Errorf("Algorithm 1: %+v", x)
				}
				if sc == report.IKEv2Collision {
					if x.Updated != 2 || len(x.SPIChanges) != 2 {
						t.Errorf("%d SPIs updated (%v), want the ESP and the IKE SPI in one request", x.Updated, x.SPIChanges)
					}
					if !x.SADOK {
						t.Errorf("nAR SAD: %s\n%s", x.SADError, strings.Join(x.SAD, "\n"))
					}
					if x.MN2Received == 0 || x.MN2Lost != 0 {
						t.Errorf("MN2's flow: %d received, %d lost", x.MN2Received, x.MN2Lost)
					}
					t.Logf("collision %v repaired: %v; MN2 %d datagrams, %d lost, longest gap %.0f ms; nAR SAD:\n%s",
						x.Colliding, x.SPIChanges, x.MN2Received, x.MN2Lost, x.MN2MaxGapMS, strings.Join(x.SAD, "\n"))
				} else if x.Updated != 0 {
					t.Errorf("%d SPIs updated without a collision", x.Updated)
				}
			}
			m, b, a, ab := r.Messages()
			t.Logf("%s: set-up delay %.1f ms, %d UDP lost (link change %.0f ms, %d lost), %d messages %d bytes [%d ack %d bytes]: %s",
				sc, r.DelayMS, r.Lost, r.LinkChangeMS, r.LostLink, m, b, a, ab, strings.Join(kinds, ", "))
			if t.Failed() {
				t.Log(log.String())
			}
		})
	}
}
