package stress

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Report is one stress run's outcome (JSON with cmd/testbed stress --json).
type Report struct {
	Backend       string `json:"backend"`
	Rule          string `json:"rule"`
	KernelRule    string `json:"kernel_rule,omitempty"`
	MNs           int    `json:"mns"`
	Children      int    `json:"children_per_mn"`
	Seed          uint64 `json:"seed"`
	SPIRange      uint32 `json:"spi_range,omitempty"`
	MaxRoundTrips int    `json:"max_round_trips"`
	Prefilled     int    `json:"prefilled_sas"`
	OtherIKESAs   int    `json:"other_ike_sas"`
	NARSAs        int    `json:"nar_sas_after"`
	NARPolicies   int    `json:"nar_policies_after"`
	// Collisions found on the nAR.
	MNsColliding  int `json:"mns_colliding"`
	ESPCollisions int `json:"esp_collisions"`
	IKECollisions int `json:"ike_collisions"`
	LateESP       int `json:"esp_collisions_after_a_round"`
	WithEarlier   int `json:"esp_collisions_with_earlier_handovers"`
	// RoundTrips: MNs per number of round trips of Algorithm 1 ("1", "2",
	// ..., "fallback" for a full IKEv2 negotiation).
	RoundTrips map[string]int `json:"round_trips"`
	UpdateSPIs int            `json:"update_spi_sent"`
	// Requests with k UPDATE_SPI notifications in the first round trip.
	PerRequest  map[string]int `json:"update_spi_per_first_request"`
	IKEMessages int            `json:"ike_messages"`
	IKEBytes    int            `json:"ike_bytes"`
	// Times in milliseconds.
	SetupTime     float64         `json:"setup_ms"`
	EstablishTime float64         `json:"establish_ms"`
	TransferTime  float64         `json:"transfer_ms"`
	PerMN         Stats           `json:"per_mn_ms"`
	PreInstall    Stats           `json:"per_mn_preinstall_ms"`
	Activate      Stats           `json:"per_mn_activate_ms"`
	Repair        Stats           `json:"per_mn_round_trips_ms"`
	CheckTime     float64         `json:"check_ms"`
	TrafficTime   float64         `json:"traffic_ms"`
	TotalTime     float64         `json:"total_ms"`
	HeapMB        float64         `json:"heap_mb"`
	AllocMB       float64         `json:"alloc_mb"`
	TrafficOK     int             `json:"traffic_ok"`
	Problems      []string        `json:"problems,omitempty"`
	MN            []MNResult      `json:"-"`
	Traffic       []TrafficResult `json:"-"`
}

// Stats summarise per-MN durations.
type Stats struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	Max  float64 `json:"max"`
}

// OK reports a run without problems.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) tally() {
	r.PerRequest = map[string]int{}
	var ds, pre, act, rep []float64
	for _, m := range r.MN {
		pre = append(pre, float64(m.PreInstall.Microseconds())/1000)
		act = append(act, float64(m.Activate.Microseconds())/1000)
		rep = append(rep, float64(m.Repair.Microseconds())/1000)
		if m.ESPColliding > 0 || m.IKECollision {
			r.MNsColliding++
		}
		r.ESPCollisions += m.ESPColliding
		if m.IKECollision {
			r.IKECollisions++
		}
		r.LateESP += m.LateESP
		r.WithEarlier += m.WithEarlier
		r.UpdateSPIs += m.Updated
		k := strconv.Itoa(m.RoundTrips)
		if m.Fallback {
			k = "fallback"
		}
		r.RoundTrips[k]++
		first := m.ESPColliding
		if m.IKECollision {
			first++
		}
		r.PerRequest[strconv.Itoa(first)]++
		ds = append(ds, float64(m.Duration.Microseconds())/1000)
	}
	r.PerMN, r.PreInstall, r.Activate, r.Repair = statsOf(ds), statsOf(pre), statsOf(act), statsOf(rep)
}

func statsOf(ds []float64) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	slices.Sort(ds)
	var sum float64
	for _, d := range ds {
		sum += d
	}
	return Stats{Mean: sum / float64(len(ds)), P50: ds[len(ds)/2], P95: ds[min((len(ds)*95)/100, len(ds)-1)], Max: ds[len(ds)-1]}
}

func keysSorted(m map[string]int) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		a, ea := strconv.Atoi(ks[i])
		b, eb := strconv.Atoi(ks[j])
		if ea == nil && eb == nil {
			return a < b
		}
		return ea == nil // numbers before "fallback"
	})
	return ks
}

// WriteTable prints the report as a small table.
func (r *Report) WriteTable(w io.Writer) {
	var rt []string
	for _, k := range keysSorted(r.RoundTrips) {
		rt = append(rt, fmt.Sprintf("%s: %d", k, r.RoundTrips[k]))
	}
	var pr []string
	for _, k := range keysSorted(r.PerRequest) {
		pr = append(pr, fmt.Sprintf("%s: %d", k, r.PerRequest[k]))
	}
	row := func(k, v string) { fmt.Fprintf(w, "| %-34s | %s |\n", k, v) }
	rule := r.Rule
	if r.KernelRule != "" {
		rule += " (the kernel's own: " + r.KernelRule + ")"
	}
	fmt.Fprintf(w, "| %-34s | %s |\n|%s|%s|\n", "stress run", fmt.Sprintf("%s, rule %s, seed %d", r.Backend, rule, r.Seed), strings.Repeat("-", 36), strings.Repeat("-", 40))
	row("MNs x children", fmt.Sprintf("%d x %d", r.MNs, r.Children))
	if r.SPIRange > 0 {
		row("SPI range (high collision rate)", fmt.Sprintf("0x100 + %d", r.SPIRange))
	}
	row("nAR pre-filled", fmt.Sprintf("%d SAs, %d IKE SAs of other MNs", r.Prefilled, r.OtherIKESAs))
	row("MNs with a collision", fmt.Sprintf("%d (ESP SPIs %d, IKE SPIs %d)", r.MNsColliding, r.ESPCollisions, r.IKECollisions))
	row("ESP SPIs colliding with", fmt.Sprintf("pre-filled SAs %d, earlier handovers' SAs %d; again after a round %d", r.ESPCollisions-r.WithEarlier, r.WithEarlier, r.LateESP))
	row("round trips per MN (histogram)", strings.Join(rt, ", "))
	row("UPDATE_SPI in the first request", strings.Join(pr, ", ")+fmt.Sprintf(" (total sent %d)", r.UpdateSPIs))
	row("IKE messages during the transfers", fmt.Sprintf("%d (%d bytes)", r.IKEMessages, r.IKEBytes))
	row("nAR SAD after", fmt.Sprintf("%d SAs, %d policies", r.NARSAs, r.NARPolicies))
	row("set-up (namespaces, addresses)", msStr(r.SetupTime))
	row("IKE with the pAR (all MNs)", msStr(r.EstablishTime))
	row("transfer + Algorithm 1 (all MNs)", msStr(r.TransferTime))
	st := func(s Stats) string { return fmt.Sprintf("%.2f / %.2f / %.2f / %.2f ms", s.Mean, s.P50, s.P95, s.Max) }
	row("per MN: mean / p50 / p95 / max", st(r.PerMN))
	row("  of which pre-install (ipsecmod)", st(r.PreInstall))
	row("  activation (+ import, request)", st(r.Activate))
	row("  round trip(s) to the MN", st(r.Repair))
	row("checks / traffic", fmt.Sprintf("%s / %s (%d of %d MNs passed traffic)", msStr(r.CheckTime), msStr(r.TrafficTime), r.TrafficOK, r.MNs))
	row("total", msStr(r.TotalTime))
	row("memory (heap after / allocated)", fmt.Sprintf("%.1f MB / %.1f MB", r.HeapMB, r.AllocMB))
	if r.OK() {
		row("result", "every MN has working, unique SAs")
	} else {
		row("result", fmt.Sprintf("%d problem(s)", len(r.Problems)))
		for i, p := range r.Problems {
			if i == 20 {
				fmt.Fprintf(w, "  ... %d more\n", len(r.Problems)-20)
				break
			}
			fmt.Fprintf(w, "  - %s\n", strings.ReplaceAll(p, "\n", "; "))
		}
	}
}

func msStr(v float64) string {
	return time.Duration(v * float64(time.Millisecond)).Round(100 * time.Microsecond).String()
}

// JSON returns the report as indented JSON.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }
