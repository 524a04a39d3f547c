package report

import (
	"fmt"
	"strings"
)

// The IKEv2 rows (issue 6 section 4): the paper has no IKEv2 figures.
const (
	// IKEv2Iked: handover + a full IKEv2 exchange (IKE_SA_INIT + IKE_AUTH
	// with the child SA) MN -> nAR by ikectx iked.
	IKEv2Iked = "ikev2-iked"
	// IKEv2Charon: the same by strongSwan's charon (kernel-netlink, the
	// kernel's ESP) on the MN and the ARs.
	IKEv2Charon = "ikev2-charon"
	// IKEv2CT: IKEv2 context transfer (predictive), then the nAR's
	// responder-initiated MOBIKE UPDATE_SA_ADDRESSES to the nCoA.
	IKEv2CT = "ikev2-ct"
	// IKEv2Collision: IKEv2CT with another MN's SAs on the nAR holding the
	// transferred SPIs, repaired by UPDATE_SPI (Algorithm 1).
	IKEv2Collision = "ikev2-ct-collision"
)

// IKEv2Scenarios are the IKEv2 rows, in the table's order.
var IKEv2Scenarios = []string{IKEv2Iked, IKEv2Charon, IKEv2CT, IKEv2Collision}

// IsIKEv2 reports whether sc is one of the IKEv2 rows.
func IsIKEv2(sc string) bool {
	for _, s := range IKEv2Scenarios {
		if s == sc {
			return true
		}
	}
	return false
}

// IKEv2Run is what an IKEv2 context-transfer run records besides the
// common measurement: the nAR's Algorithm 1 (the MOBIKE request with its
// UPDATE_SPI notifications), and for the collision scenario the other MN
// (MN2) and the nAR's SAD after the repair.
type IKEv2Run struct {
	// RoundTrips, Updated, Fallback: the nAR iked's repair after the
	// import (ipsec-cxtpd's status): INFORMATIONAL round trips, UPDATE_SPI
	// notifications applied, whether a full IKEv2 exchange was relaunched.
	RoundTrips int    `json:"round_trips"`
	Updated    int    `json:"spis_updated"`
	Fallback   bool   `json:"fallback,omitempty"`
	MoveError  string `json:"move_error,omitempty"`
	// SPIChanges are the MN's SPIs the repair changed ("esp 0x... ->
	// 0x...", "ike ... -> ..."), from the pAR's and the nAR's iked.
	SPIChanges []string `json:"spi_changes,omitempty"`
	// Collision scenario: the SPIs MN2's SAs on the nAR were given (the
	// transferred ones) before the handover.
	Colliding []string `json:"colliding,omitempty"`
	// MN2's flow to the HA through the nAR, from 1 s before the
	// attachment (or from its first datagram after its own SPI changes,
	// if later) to the end of the run: datagrams received and missing,
	// the longest gap between two arrivals.
	MN2Received int     `json:"mn2_received,omitempty"`
	MN2Lost     int     `json:"mn2_lost"`
	MN2MaxGapMS float64 `json:"mn2_max_gap_ms,omitempty"`
	// SADOK: the nAR's SAD (dump) after the repair holds both MNs' SAs,
	// each SPI bound to its own MN and none lost; SAD lists it (no keys).
	SADOK    bool     `json:"sad_ok"`
	SADError string   `json:"sad_error,omitempty"`
	SAD      []string `json:"nar_sad,omitempty"`
}

// IKEv2Row aggregates the IKEv2 runs of one row.
type IKEv2Row struct {
	// MOBIKE frames (IKE, UDP 500/4500) and the CXTP activation of the
	// context-transfer rows, counted apart.
	MOBIKEFrames Stat `json:"mobike_frames"`
	MOBIKEBytes  Stat `json:"mobike_bytes"`
	CTARBytes    Stat `json:"ctar_bytes"`
	CTAABytes    Stat `json:"ctaa_bytes"`
	RoundTrips   Stat `json:"round_trips"`
	Updated      Stat `json:"spis_updated"`
	Fallbacks    int  `json:"fallbacks,omitempty"`
	// Collision scenario.
	MN2Lost    Stat     `json:"mn2_lost"`
	MN2MaxGap  Stat     `json:"mn2_max_gap_ms"`
	SADOK      int      `json:"sad_ok_runs"`
	SPIChanges []string `json:"spi_changes,omitempty"` // of the first run
}

// ikev2Row fills row.IKEv2 for the context-transfer IKEv2 rows.
func ikev2Row(row *Row, runs []Run) {
	if row.Scenario != IKEv2CT && row.Scenario != IKEv2Collision {
		return
	}
	x := &IKEv2Row{}
	n := 0
	var mf, mb, cr, ca, rt, up, ml, mg []float64
	for _, r := range runs {
		if r.Scenario != row.Scenario || r.Error != "" {
			continue
		}
		n++
		var f, b, tr, ta int
		for _, fr := range r.Frames {
			switch fr.Kind {
			case KindIKE:
				f++
				b += fr.Len
			case KindCTAR:
				tr += fr.Len
			case KindCTAA:
				ta += fr.Len
			}
		}
		mf, mb, cr, ca = append(mf, float64(f)), append(mb, float64(b)), append(cr, float64(tr)), append(ca, float64(ta))
		if v := r.IKEv2; v != nil {
			rt, up = append(rt, float64(v.RoundTrips)), append(up, float64(v.Updated))
			if v.Fallback {
				x.Fallbacks++
			}
			if row.Scenario == IKEv2Collision {
				ml, mg = append(ml, float64(v.MN2Lost)), append(mg, v.MN2MaxGapMS)
				if v.SADOK {
					x.SADOK++
				}
				if x.SPIChanges == nil {
					x.SPIChanges = v.SPIChanges
				}
			}
		}
	}
	if n == 0 {
		return
	}
	x.MOBIKEFrames, x.MOBIKEBytes, x.CTARBytes, x.CTAABytes = stat(mf), stat(mb), stat(cr), stat(ca)
	x.RoundTrips, x.Updated, x.MN2Lost, x.MN2MaxGap = stat(rt), stat(up), stat(ml), stat(mg)
	row.IKEv2 = x
}

// ikev2Ratios adds the IKEv2 full exchanges' delay over the IKEv2 context
// transfer's.
func (t *Table) ikev2Ratios() {
	c := t.row(IKEv2CT)
	if c == nil || c.Runs == 0 || c.DelayMS.Median <= 0 {
		return
	}
	for _, full := range []string{IKEv2Iked, IKEv2Charon} {
		if r := t.row(full); r != nil && r.Runs > 0 {
			t.Ratios[full+"/"+IKEv2CT] = r.DelayMS.Median / c.DelayMS.Median
		}
	}
}

// paperRatio is the paper's figure for a ratio key of Table.Ratios.
func paperRatio(key string) string {
	if strings.HasPrefix(key, "ikev2-") {
		return "paper: — (no IKEv2 figures)"
	}
	return "paper: main/CT 75, aggressive/CT 65"
}

// ikev2Lines writes, under the table, the IKEv2 context-transfer rows'
// split of the messages (CXTP activation, MOBIKE) and the collision
// repair.
func (t Table) ikev2Lines(b *strings.Builder) {
	first := true
	for _, r := range t.Rows {
		x := r.IKEv2
		if x == nil || r.Runs == 0 {
			continue
		}
		if first {
			b.WriteString("\n")
			first = false
		}
		fmt.Fprintf(b, "- %s: CTAR %s bytes [CTAA %s] + the nAR's MOBIKE exchange %s IKE frames / %s bytes on the MN's link; Algorithm 1: %s round trip(s), %s SPI(s) changed by UPDATE_SPI",
			r.Label, x.CTARBytes.md(""), x.CTAABytes.md(""), x.MOBIKEFrames.md(""), x.MOBIKEBytes.md(""), x.RoundTrips.md(""), x.Updated.md(""))
		if x.Fallbacks > 0 {
			fmt.Fprintf(b, ", %d fallback(s) to a full IKEv2 exchange", x.Fallbacks)
		}
		if r.Scenario == IKEv2Collision {
			fmt.Fprintf(b, " in one request; MN2 (another MN on the nAR holding the transferred SPIs): %s datagrams lost, longest gap %s ms; nAR SAD checked (each SPI bound to its own MN, no SA lost) in %d/%d runs",
				x.MN2Lost.md(""), x.MN2MaxGap.md(""), x.SADOK, r.Runs)
			if len(x.SPIChanges) > 0 {
				fmt.Fprintf(b, "; SPIs changed (run 1): %s", strings.Join(x.SPIChanges, ", "))
			}
		}
		b.WriteString("\n")
	}
}
