// Package report turns testbed runs into the paper's Table 1 (Markdown and
// JSON), its Figure 4 (PNG, gonum/plot) and counts the security set-up
// frames of a capture (gopacket) the way the paper does: whole Ethernet
// frames on the MN's access link, IKE = UDP 500/4500, CXTP = ICMPv6 type
// 150 (CTAR 106 bytes, CTAA 82).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/ikectx/ikectx/testbed/traffic"
)

// Scenario identifiers, in the table's order.
const (
	Main       = "ikev1-main"
	Aggressive = "ikev1-aggressive"
	Predictive = "cxtp-predictive"
	Reactive   = "cxtp-reactive"
)

// Scenarios lists the scenarios in order: the paper's IKEv1 rows, then
// the IKEv2 ones (ikev2.go).
var Scenarios = []string{Main, Aggressive, Predictive, Reactive, IKEv2Iked, IKEv2Charon, IKEv2CT, IKEv2Collision}

// Labels are the table's row names.
var Labels = map[string]string{
	Main:       "IKEv1 main mode",
	Aggressive: "IKEv1 aggressive mode",
	Predictive: "IKEv1 with context transfer (predictive)",
	Reactive:   "IKEv1 with context transfer (reactive)",

	IKEv2Iked:      "IKEv2 full exchange (ikectx iked)",
	IKEv2Charon:    "IKEv2 full exchange (strongSwan charon)",
	IKEv2CT:        "IKEv2 with context transfer (predictive) + MOBIKE",
	IKEv2Collision: "IKEv2 with context transfer + SPI collision (UPDATE_SPI)",
}

// Paper is a row of the paper's Table 1.
type Paper struct {
	DelayMS     float64 `json:"delay_ms"`
	Messages    int     `json:"messages"`
	Bytes       int     `json:"bytes"`
	AckMessages int     `json:"ack_messages,omitempty"`
	AckBytes    int     `json:"ack_bytes,omitempty"`
}

// PaperTable1 is the paper's Table 1 ("Average delay (in ms)", "Number of
// messages", "Total size of messages (in Bytes)"); the paper has one
// context-transfer row, measured with a predictive transfer.
var PaperTable1 = map[string]Paper{
	Main:       {DelayMS: 1500, Messages: 11, Bytes: 2182},
	Aggressive: {DelayMS: 1300, Messages: 8, Bytes: 1896},
	Predictive: {DelayMS: 20, Messages: 1, Bytes: 106, AckMessages: 1, AckBytes: 82},
}

// Run is one handover of one scenario, as measured in the testbed.
type Run struct {
	Scenario string `json:"scenario"`
	Index    int    `json:"run"`
	// Attach is when the MN had its nCoA on the nAR's link (Unix ns);
	// Restored is the first UDP arrival at the HA from the nCoA.
	Attach   int64   `json:"attach_ns"`
	Restored int64   `json:"restored_ns"`
	DelayMS  float64 `json:"delay_ms"`
	Lost     int     `json:"lost"` // scheduled at or after the attachment, never delivered
	// LinkChangeMS is how long moving the MN's link took (the paper's
	// alpha, not part of the delay); LostLink the datagrams lost during it.
	LinkChangeMS float64 `json:"link_change_ms"`
	LostLink     int     `json:"lost_link_change"`
	// FloorMS (context transfer) is measured in the same run: one MN-nAR
	// round trip (ICMPv6 echo) plus the PF_KEY adds of an activation's
	// three policies on the nAR.
	FloorMS float64 `json:"floor_ms,omitempty"`
	// RTTMS is the floor's round trip (ICMPv6 echo, answered by the nAR's
	// kernel); ProcRTTMS the same round trip between two processes (a UDP
	// echo, udpgen echo on the nAR), not part of the floor.
	RTTMS     float64 `json:"rtt_ms,omitempty"`
	ProcRTTMS float64 `json:"process_rtt_ms,omitempty"`
	// MNRewriteMS is the MN's own SAD/SPD move to the nCoA and the nAR
	// (PF_KEY calls in its namespace): before its CTAR leaves, or before
	// the datagram that raises the ACQUIRE.
	MNRewriteMS float64 `json:"mn_rewrite_ms,omitempty"`
	// The context transfer's MN side, split (ipsecmod.MNPlan): MNPrepareMS
	// installs the rewritten policies and inbound SAs (before the move in
	// predictive mode, after the CTAR in reactive mode); CTAAMS is the
	// attachment -> the CTAA at the MN; MNActivateMS the held outbound SAs
	// and the outbound policies' re-insertion on the CTAA. PathOpenMS is
	// the attachment -> the first delivery at the HA through the new
	// tunnel of anything the MN sent (a datagram the kernel held for the
	// missing SA, or the probe sent right after the activation);
	// GridWaitMS = DelayMS - PathOpenMS, the wait for the generator's
	// next scheduled datagram. Queued counts the datagrams sent between
	// the attachment and the activation that reached the HA.
	MNPrepareMS  float64 `json:"mn_prepare_ms,omitempty"`
	CTAAMS       float64 `json:"ctaa_ms,omitempty"`
	MNActivateMS float64 `json:"mn_activate_ms,omitempty"`
	PathOpenMS   float64 `json:"path_open_ms,omitempty"`
	GridWaitMS   float64 `json:"grid_wait_ms,omitempty"`
	Queued       int     `json:"queued,omitempty"`
	// CPUMS (table1 --sched): ms of CPU each process (station daemons by
	// name, "driver" for the testbed's own process, which also plays the
	// MN's IPsec module; "idle", "kernel", "other") held between the
	// attachment and the first delivery, from the kernel's sched_switch
	// events. The stations share the VM's CPUs.
	CPUMS map[string]float64 `json:"cpu_ms,omitempty"`
	// NARPhase1s (context transfer) counts the ISAKMP SAs the nAR's racoon
	// holds after the activation: imported from the pAR's, as it negotiated
	// none.
	NARPhase1s int `json:"nar_phase1s,omitempty"`
	// Rekey (context transfer): after the handover, a quick mode started
	// on the nAR (racoon establish-sa esp) with the phase 1 imported from
	// the pAR. RekeyOK: new ESP SAs (SPIs not the transferred ones)
	// between the nCoA and the nAR in both kernels, still exactly one
	// ISAKMP SA on the MN's and the nAR's racoon with the pAR phase 1's
	// cookies, and MN-HA datagrams through the new SAs. RekeyMS: the
	// request to the new SAs in both kernels; RekeyFrames/RekeyBytes: IKE
	// frames on the MN's nAR-side interface during the rekey.
	Rekey       bool    `json:"rekey,omitempty"`
	RekeyOK     bool    `json:"rekey_ok,omitempty"`
	RekeyMS     float64 `json:"rekey_ms,omitempty"`
	RekeyFrames int     `json:"rekey_frames,omitempty"`
	RekeyBytes  int     `json:"rekey_bytes,omitempty"`
	RekeyError  string  `json:"rekey_error,omitempty"`
	// Frames are the security set-up frames captured on the MN's
	// nAR-side interface from the attachment on.
	Frames  []Frame          `json:"frames"`
	Records []traffic.Record `json:"records,omitempty"`
	Pcap    string           `json:"pcap,omitempty"` // file name in the output directory
	Error   string           `json:"error,omitempty"`
	// IKEv2 (the IKEv2 context-transfer rows): Algorithm 1, MN2, the
	// nAR's SAD.
	IKEv2 *IKEv2Run `json:"ikev2,omitempty"`
}

// Messages splits a run's frames: set-up messages (everything but CTAA)
// and acknowledgements (CTAA), counts and bytes.
func (r Run) Messages() (msgs, bytes, acks, ackBytes int) {
	for _, f := range r.Frames {
		if f.Kind == KindCTAA {
			acks++
			ackBytes += f.Len
			continue
		}
		msgs++
		bytes += f.Len
	}
	return
}

// Phases splits a run's delay with its capture: attachment -> first
// set-up message on the MN's link (the MN's own work: SPD rewrite, the
// ACQUIRE or the CTAR), and first set-up message -> first UDP datagram
// through the new tunnel (the exchange and the installation). ok is false
// without frames.
func (r Run) Phases() (firstMsgMS, exchangeMS float64, ok bool) {
	if len(r.Frames) == 0 || r.Restored == 0 {
		return 0, 0, false
	}
	first := r.Frames[0].At
	for _, f := range r.Frames {
		first = min(first, f.At)
	}
	return float64(first-r.Attach) / 1e6, float64(r.Restored-first) / 1e6, true
}

// CXTPTimes are, from a context-transfer run's capture, the attachment ->
// the first CTAR and -> the first CTAA on the MN's link (ms). ok is false
// without both.
func (r Run) CXTPTimes() (ctar, ctaa float64, ok bool) {
	var tr, ta int64
	for _, f := range r.Frames {
		switch {
		case f.Kind == KindCTAR && (tr == 0 || f.At < tr):
			tr = f.At
		case f.Kind == KindCTAA && (ta == 0 || f.At < ta):
			ta = f.At
		}
	}
	if tr == 0 || ta == 0 {
		return 0, 0, false
	}
	return float64(tr-r.Attach) / 1e6, float64(ta-r.Attach) / 1e6, true
}

// Stat is a median with its range.
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

func stat(v []float64) Stat {
	if len(v) == 0 {
		return Stat{}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stat{Median: m, Min: s[0], Max: s[len(s)-1]}
}

// Row is one scenario of Table 1.
type Row struct {
	Scenario    string `json:"scenario"`
	Label       string `json:"label"`
	Runs        int    `json:"runs"`
	Failed      int    `json:"failed_runs,omitempty"`
	NotRun      string `json:"not_run,omitempty"` // the reason, when the scenario did not run
	DelayMS     Stat   `json:"delay_ms"`
	Lost        Stat   `json:"lost_packets"`
	Messages    Stat   `json:"messages"`
	Bytes       Stat   `json:"bytes"`
	AckMessages Stat   `json:"ack_messages"`
	AckBytes    Stat   `json:"ack_bytes"`
	// FirstMsgMS: attachment -> first set-up message; ExchangeMS: first
	// set-up message -> first datagram through the new tunnel.
	FirstMsgMS Stat `json:"first_message_ms"`
	FloorMS    Stat `json:"floor_ms"`
	RTTMS      Stat `json:"rtt_ms"`
	ProcRTTMS  Stat `json:"process_rtt_ms"`
	ExchangeMS Stat `json:"exchange_ms"`
	// Context transfer (see Run): path open, grid wait, the CTAA's
	// arrival, the MN's preparation and activation, and per run the
	// set-up delay and the path-open delay over the floor measured in the
	// same run (issue 5's target: at most 1.2 for a predictive transfer).
	PathOpenMS   Stat `json:"path_open_ms"`
	GridWaitMS   Stat `json:"grid_wait_ms"`
	CTAAMS       Stat `json:"ctaa_ms"`
	MNPrepareMS  Stat `json:"mn_prepare_ms"`
	MNActivateMS Stat `json:"mn_activate_ms"`
	// CTARWireMS and CTAAWireMS: the attachment -> the first CTAR and the
	// first CTAA on the MN's link (from the capture).
	CTARWireMS    Stat     `json:"ctar_wire_ms"`
	CTAAWireMS    Stat     `json:"ctaa_wire_ms"`
	DelayFloor    Stat     `json:"delay_over_floor"`
	PathOpenFloor Stat     `json:"path_open_over_floor"`
	Paper         *Paper   `json:"paper,omitempty"`
	Errors        []string `json:"errors,omitempty"`
	// CPUMS (table1 --sched): per process, the CPU time it held during the
	// set-up window, over the runs that recorded it.
	CPUMS map[string]Stat `json:"cpu_ms,omitempty"`
	// The quick-mode rekeys MN<->nAR after a context transfer (see
	// Run.Rekey): how many were tried and succeeded, their time and IKE
	// frames.
	Rekeys      int      `json:"rekeys,omitempty"`
	RekeysOK    int      `json:"rekeys_ok,omitempty"`
	RekeyMS     Stat     `json:"rekey_ms"`
	RekeyFrames Stat     `json:"rekey_frames"`
	RekeyBytes  Stat     `json:"rekey_bytes"`
	RekeyErrors []string `json:"rekey_errors,omitempty"`
	// IKEv2 (the IKEv2 context-transfer rows): MOBIKE frames, Algorithm
	// 1, the collision scenario's checks.
	IKEv2 *IKEv2Row `json:"ikev2,omitempty"`
}

// Table is Table 1 with the ratios of the IKEv1 rows' delay to the
// context transfer's.
type Table struct {
	Rows   []Row              `json:"rows"`
	Ratios map[string]float64 `json:"ratios,omitempty"` // "ikev1-main/cxtp-predictive": median over median
	Notes  []string           `json:"notes,omitempty"`
}

// Build makes the table from runs; notRun gives the reason for each
// scenario that was not run.
func Build(runs []Run, notRun map[string]string) Table {
	var t Table
	for _, sc := range Scenarios {
		row := Row{Scenario: sc, Label: Labels[sc]}
		if p, ok := PaperTable1[sc]; ok {
			p := p
			row.Paper = &p
		}
		if why, ok := notRun[sc]; ok {
			row.NotRun = why
			t.Rows = append(t.Rows, row)
			continue
		}
		var d, l, m, b, am, ab, fm, ex, fl, rk, rf, rb []float64
		var cpu map[string][]float64
		var rt, pr []float64
		var po, gw, ca, mp, ma, df, pf, cr, cw []float64
		for _, r := range runs {
			if r.Scenario != sc {
				continue
			}
			if r.Error != "" {
				row.Failed++
				row.Errors = append(row.Errors, fmt.Sprintf("run %d: %s", r.Index, r.Error))
				continue
			}
			row.Runs++
			msgs, bytes, acks, ackBytes := r.Messages()
			d = append(d, r.DelayMS)
			l = append(l, float64(r.Lost))
			m = append(m, float64(msgs))
			b = append(b, float64(bytes))
			am = append(am, float64(acks))
			ab = append(ab, float64(ackBytes))
			if r.FloorMS > 0 {
				fl = append(fl, r.FloorMS)
			}
			if r.PathOpenMS > 0 {
				po = append(po, r.PathOpenMS)
				gw = append(gw, r.GridWaitMS)
				ca = append(ca, r.CTAAMS)
				mp = append(mp, r.MNPrepareMS)
				ma = append(ma, r.MNActivateMS)
				if tr, ta, ok := r.CXTPTimes(); ok {
					cr = append(cr, tr)
					cw = append(cw, ta)
				}
				if r.FloorMS > 0 {
					df = append(df, r.DelayMS/r.FloorMS)
					pf = append(pf, r.PathOpenMS/r.FloorMS)
				}
			}
			if r.ProcRTTMS > 0 {
				pr = append(pr, r.ProcRTTMS)
				rt = append(rt, r.RTTMS)
			}
			for k, v := range r.CPUMS {
				if cpu == nil {
					cpu = map[string][]float64{}
				}
				cpu[k] = append(cpu[k], v)
			}
			if f, e, ok := r.Phases(); ok {
				fm = append(fm, f)
				ex = append(ex, e)
			}
			if r.Rekey {
				row.Rekeys++
				if r.RekeyOK {
					row.RekeysOK++
					rk = append(rk, r.RekeyMS)
					rf = append(rf, float64(r.RekeyFrames))
					rb = append(rb, float64(r.RekeyBytes))
				} else {
					row.RekeyErrors = append(row.RekeyErrors, fmt.Sprintf("run %d: %s", r.Index, r.RekeyError))
				}
			}
		}
		row.RekeyMS, row.RekeyFrames, row.RekeyBytes = stat(rk), stat(rf), stat(rb)
		row.FirstMsgMS, row.ExchangeMS, row.FloorMS = stat(fm), stat(ex), stat(fl)
		row.RTTMS, row.ProcRTTMS = stat(rt), stat(pr)
		row.PathOpenMS, row.GridWaitMS, row.CTAAMS = stat(po), stat(gw), stat(ca)
		row.MNPrepareMS, row.MNActivateMS = stat(mp), stat(ma)
		row.DelayFloor, row.PathOpenFloor = stat(df), stat(pf)
		row.CTARWireMS, row.CTAAWireMS = stat(cr), stat(cw)
		row.CPUMS = cpuStats(cpu, len(d))
		if row.Runs == 0 && row.Failed == 0 {
			row.NotRun = "no runs"
		}
		row.DelayMS, row.Lost, row.Messages, row.Bytes = stat(d), stat(l), stat(m), stat(b)
		row.AckMessages, row.AckBytes = stat(am), stat(ab)
		ikev2Row(&row, runs)
		t.Rows = append(t.Rows, row)
	}
	t.Ratios = map[string]float64{}
	for _, ct := range []string{Predictive, Reactive} {
		c := t.row(ct)
		if c == nil || c.Runs == 0 || c.DelayMS.Median <= 0 {
			continue
		}
		for _, ike := range []string{Main, Aggressive} {
			if r := t.row(ike); r != nil && r.Runs > 0 {
				t.Ratios[ike+"/"+ct] = r.DelayMS.Median / c.DelayMS.Median
			}
		}
	}
	t.ikev2Ratios()
	if len(t.Ratios) == 0 {
		t.Ratios = nil
	}
	return t
}

func (t *Table) row(sc string) *Row {
	for i := range t.Rows {
		if t.Rows[i].Scenario == sc {
			return &t.Rows[i]
		}
	}
	return nil
}

// WriteJSON writes the table as indented JSON.
func (t Table) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(t)
}

func num(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func (s Stat) md(unit string) string {
	if s.Min == s.Max {
		return num(s.Median) + unit
	}
	return fmt.Sprintf("%s%s (%s–%s)", num(s.Median), unit, num(s.Min), num(s.Max))
}

// Markdown writes Table 1: per scenario the measured median (min–max over
// the runs) beside the paper's figure.
func (t Table) Markdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| scenario | runs | set-up delay (ms) | UDP lost | messages | bytes | paper: delay (ms) | paper: messages | paper: bytes |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range t.Rows {
		pd, pm, pb := "—", "—", "—"
		if r.Paper != nil {
			pd, pm, pb = num(r.Paper.DelayMS), fmt.Sprint(r.Paper.Messages), fmt.Sprint(r.Paper.Bytes)
			if r.Paper.AckMessages > 0 {
				pm += fmt.Sprintf(" [%d]", r.Paper.AckMessages)
				pb += fmt.Sprintf(" [%d]", r.Paper.AckBytes)
			}
		}
		if r.NotRun != "" {
			fmt.Fprintf(&b, "| %s | 0 | not run (%s) | | | | %s | %s | %s |\n", r.Label, r.NotRun, pd, pm, pb)
			continue
		}
		if r.Runs == 0 {
			fmt.Fprintf(&b, "| %s | 0 (%d failed) | failed | | | | %s | %s | %s |\n", r.Label, r.Failed, pd, pm, pb)
			continue
		}
		runs := fmt.Sprint(r.Runs)
		if r.Failed > 0 {
			runs += fmt.Sprintf(" (+%d failed)", r.Failed)
		}
		msgs, bytes := r.Messages.md(""), r.Bytes.md("")
		if r.AckMessages.Max > 0 {
			msgs += " [" + r.AckMessages.md("") + "]"
			bytes += " [" + r.AckBytes.md("") + "]"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Label, runs, r.DelayMS.md(""), r.Lost.md(""), msgs, bytes, pd, pm, pb)
	}
	b.WriteString("\nWhere the set-up delay goes (median (min–max) over the runs, ms):\n\n| scenario | attachment → first set-up message | first set-up message → first datagram through the new tunnel | floor (MN-nAR RTT + activation's PF_KEY adds) |\n|---|---|---|---|\n")
	for _, r := range t.Rows {
		if r.Runs == 0 {
			continue
		}
		floor := ""
		if r.FloorMS.Max > 0 {
			floor = fmt.Sprintf("%s (delay/floor %.1f)", r.FloorMS.md(""), r.DelayMS.Median/r.FloorMS.Median)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.Label, r.FirstMsgMS.md(""), r.ExchangeMS.md(""), floor)
	}
	first := true
	for _, r := range t.Rows {
		if r.PathOpenMS.Max <= 0 {
			continue
		}
		if first {
			b.WriteString("\n")
			first = false
		}
		fmt.Fprintf(&b, "- %s: path open (attachment → first delivery through the new tunnel) %s ms, then %s ms waiting for the generator's next datagram (50 ms grid); CTAR on the MN's link at %s ms, CTAA at %s ms, CTAA at the MN's IPsec side %s ms; MN preparation %s ms (%s), activation on the CTAA %s ms",
			r.Label, r.PathOpenMS.md(""), r.GridWaitMS.md(""), r.CTARWireMS.md(""), r.CTAAWireMS.md(""), r.CTAAMS.md(""), r.MNPrepareMS.md(""), prepWhen(r.Scenario), r.MNActivateMS.md(""))
		if r.PathOpenFloor.Max > 0 {
			fmt.Fprintf(&b, "; over the floor of the same run: path open %s (%s), set-up delay %s (%s)",
				ratio(r.PathOpenFloor), target(r.PathOpenFloor.Median), ratio(r.DelayFloor), target(r.DelayFloor.Median))
		}
		if r.ProcRTTMS.Max > 0 {
			fmt.Fprintf(&b, "; the MN-nAR round trip: ICMPv6 echo (in the floor) %s ms, between two processes (UDP echo) %s ms",
				r.RTTMS.md(""), r.ProcRTTMS.md(""))
		}
		fmt.Fprintf(&b, "; UDP lost to security set-up %s\n", r.Lost.md(""))
	}
	first = true
	for _, r := range t.Rows {
		if len(r.CPUMS) == 0 {
			continue
		}
		if first {
			b.WriteString("\n")
			first = false
		}
		fmt.Fprintf(&b, "- %s: CPU time held between the attachment and the first delivery (kernel sched_switch trace, ms, median): %s\n", r.Label, cpuLine(r))
	}
	first = true
	for _, r := range t.Rows {
		if r.Rekeys == 0 {
			continue
		}
		if first {
			b.WriteString("\n")
			first = false
		}
		fmt.Fprintf(&b, "- quick-mode rekey MN<->nAR with the phase 1 transferred from the pAR, %s: %d/%d ok", r.Label, r.RekeysOK, r.Rekeys)
		if r.RekeysOK > 0 {
			fmt.Fprintf(&b, ", %s ms, %s IKE frames / %s bytes on the MN's link, no new phase 1 (one ISAKMP SA on the MN and the nAR, the pAR's cookies), MN-HA datagrams through the new SAs",
				r.RekeyMS.md(""), r.RekeyFrames.md(""), r.RekeyBytes.md(""))
		}
		for _, e := range r.RekeyErrors {
			fmt.Fprintf(&b, "; %s", e)
		}
		b.WriteString("\n")
	}
	t.ikev2Lines(&b)
	if len(t.Ratios) > 0 {
		b.WriteString("\n")
		keys := make([]string, 0, len(t.Ratios))
		for k := range t.Ratios {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "- delay ratio %s: %.1f (%s)\n", k, t.Ratios[k], paperRatio(k))
		}
	}
	for _, n := range t.Notes {
		fmt.Fprintf(&b, "\n%s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cpuStats is per process the statistics of its CPU time over n runs (a
// process absent from a run's trace held the CPU 0 ms in it).
func cpuStats(cpu map[string][]float64, n int) map[string]Stat {
	if len(cpu) == 0 {
		return nil
	}
	out := map[string]Stat{}
	for k, v := range cpu {
		for len(v) < n {
			v = append(v, 0)
		}
		out[k] = stat(v)
	}
	return out
}

// cpuLine lists a row's CPU shares (medians), largest first.
func cpuLine(r Row) string {
	m := make(map[string]float64, len(r.CPUMS))
	for k, v := range r.CPUMS {
		m[k] = v.Median
	}
	return CPULine(m)
}

// CPULine lists CPU times in ms, "name ms, ...", largest first.
func CPULine(cpu map[string]float64) string {
	keys := make([]string, 0, len(cpu))
	for k := range cpu {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if cpu[keys[i]] != cpu[keys[j]] {
			return cpu[keys[i]] > cpu[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %.1f", k, cpu[k])
	}
	return strings.Join(parts, ", ")
}

func prepWhen(sc string) string {
	if sc == Predictive {
		return "before the move"
	}
	return "after the CTAR"
}

func ratio(s Stat) string {
	if s.Min == s.Max {
		return fmt.Sprintf("%.2f", s.Median)
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", s.Median, s.Min, s.Max)
}

// target says whether a median ratio over the floor meets issue 5's
// "within 20% of the floor".
func target(r float64) string {
	if r <= 1.2 {
		return "within 20%: met"
	}
	return "within 20%: not met"
}
