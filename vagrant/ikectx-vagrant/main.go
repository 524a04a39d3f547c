// Command ikectx-vagrant is the FreeBSD testbed's helper, on both sides:
//
//	ikectx-vagrant now                       (guest) the clock in Unix ns (FreeBSD's date has no %N)
//	ikectx-vagrant report --in DIR [--out DIR] (host) Table 1 and Figure 4 from the fetched runs
//
// --in holds one folder per run, SCENARIO-N (e.g. cxtp-predictive-1), with
// what vagrant/table1.sh fetched: move.env (leave_ns, attach_ns on the MN's
// clock), rx.jsonl (the HA's sink records) and mn1.pcap (tcpdump on the MN's
// nAR-side interface), or error.txt for a run that failed. The table is the
// Linux testbed's (testbed/report), computed the same way.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ikectx/ikectx/testbed/report"
	"github.com/ikectx/ikectx/testbed/scenario"
	"github.com/ikectx/ikectx/testbed/topo"
	"github.com/ikectx/ikectx/testbed/traffic"
)

// interval is the generator's (udpgen send --interval 50ms).
const interval = 50 * time.Millisecond

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "now":
		fmt.Println(time.Now().UnixNano())
	case "report":
		fs := flag.NewFlagSet("report", flag.ExitOnError)
		in := fs.String("in", "out/vagrant", "folder of fetched runs")
		out := fs.String("out", "", "output folder (default: --in)")
		fs.Parse(os.Args[2:])
		if *out == "" {
			*out = *in
		}
		if err := writeReport(*in, *out, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "ikectx-vagrant report:", err)
			os.Exit(1)
		}
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: ikectx-vagrant now | report --in DIR [--out DIR]")
	os.Exit(2)
}

// ClockOffset estimates the HA's clock minus the MN's from the datagrams
// sent before the handover (source oldSrc): the smallest receive minus send
// time, i.e. the offset plus the smallest one-way delay through the pAR
// (well under a millisecond between VMs on one host). ok is false without
// such datagrams.
func ClockOffset(recs []traffic.Record, oldSrc string) (off int64, ok bool) {
	for _, r := range recs {
		if r.Src != oldSrc {
			continue
		}
		if d := r.Recv - r.Sent; !ok || d < off {
			off, ok = d, true
		}
	}
	return
}

// readEnv reads KEY=VALUE lines.
func readEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok {
			m[k] = v
		}
	}
	return m, sc.Err()
}

// BuildRun turns one fetched run folder into a report.Run: the delay runs
// from the MN's attachment (its clock) to the HA's receipt of the first
// datagram from the nCoA, carried to the MN's clock with ClockOffset.
func BuildRun(dir, sc string, index int) report.Run {
	r := report.Run{Scenario: sc, Index: index}
	if b, err := os.ReadFile(filepath.Join(dir, "error.txt")); err == nil {
		r.Error = strings.TrimSpace(string(b))
		return r
	}
	fail := func(err error) report.Run { r.Error = err.Error(); return r }
	env, err := readEnv(filepath.Join(dir, "move.env"))
	if err != nil {
		return fail(err)
	}
	leave, err1 := strconv.ParseInt(env["leave_ns"], 10, 64)
	attach, err2 := strconv.ParseInt(env["attach_ns"], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return fail(fmt.Errorf("move.env: %w", err))
	}
	r.Attach = attach
	r.LinkChangeMS = float64(attach-leave) / 1e6
	f, err := os.Open(filepath.Join(dir, "rx.jsonl"))
	if err != nil {
		return fail(err)
	}
	recs, err := traffic.ReadRecords(f)
	f.Close()
	if err != nil {
		return fail(err)
	}
	plan := topo.Default()
	pcoa, ncoa := plan.PCoA.String(), plan.NCoA.String()
	off, ok := ClockOffset(recs, pcoa)
	if !ok {
		return fail(errors.New("no datagram from the pCoA: the tunnel through the pAR never came up"))
	}
	for i := range recs {
		recs[i].Recv -= off // on the MN's clock from here on
	}
	for _, rec := range recs {
		if rec.Src == ncoa && rec.Recv >= attach && (r.Restored == 0 || rec.Recv < r.Restored) {
			r.Restored = rec.Recv
		}
	}
	if r.Restored == 0 {
		return fail(errors.New("no datagram from the nCoA reached the HA"))
	}
	r.DelayMS = float64(r.Restored-attach) / 1e6
	r.Records = recs
	r.Lost, r.LostLink = scenario.LostAround(recs, pcoa, ncoa, attach, interval)
	pcap, err := os.ReadFile(filepath.Join(dir, "mn1.pcap"))
	if err != nil {
		return fail(err)
	}
	if r.Frames, err = report.ReadFrames(bytes.NewReader(pcap)); err != nil {
		return fail(fmt.Errorf("mn1.pcap: %w", err))
	}
	r.Pcap = filepath.Join(filepath.Base(dir), "mn1.pcap")
	return r
}

// Runs reads every SCENARIO-N folder of in, in the table's order.
func Runs(in string) ([]report.Run, error) {
	ents, err := os.ReadDir(in)
	if err != nil {
		return nil, err
	}
	var runs []report.Run
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		i := strings.LastIndexByte(e.Name(), '-')
		if i < 0 {
			continue
		}
		sc := e.Name()[:i]
		n, err := strconv.Atoi(e.Name()[i+1:])
		if err != nil || !isScenario(sc) {
			continue
		}
		runs = append(runs, BuildRun(filepath.Join(in, e.Name()), sc, n))
	}
	order := map[string]int{}
	for i, s := range report.Scenarios {
		order[s] = i
	}
	sort.Slice(runs, func(i, j int) bool {
		if runs[i].Scenario != runs[j].Scenario {
			return order[runs[i].Scenario] < order[runs[j].Scenario]
		}
		return runs[i].Index < runs[j].Index
	})
	return runs, nil
}

func isScenario(s string) bool {
	for _, x := range report.Scenarios {
		if x == s {
			return true
		}
	}
	return false
}

func writeReport(in, out string, stdout io.Writer) error {
	runs, err := Runs(in)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		return fmt.Errorf("%s: no SCENARIO-N run folders", in)
	}
	notRun := map[string]string{}
	for _, sc := range report.Scenarios {
		notRun[sc] = "not run"
		if report.IsIKEv2(sc) {
			notRun[sc] = "Linux kernel lab only: go run ./cmd/testbed table1"
		}
	}
	for _, r := range runs {
		delete(notRun, r.Scenario)
		if r.Error != "" {
			fmt.Fprintf(stdout, "%s run %d: %s\n", r.Scenario, r.Index, r.Error)
		}
	}
	tb := report.Build(runs, notRun)
	tb.Notes = append(tb.Notes,
		"Measured on four FreeBSD VMs (vagrant/): real NICs and links, one kernel per station.",
		"Set-up delay: from the MN's attachment to the nAR's link with its nCoA (MN's clock) to the HA's receipt of the first UDP datagram from the nCoA, carried to the MN's clock by the smallest receive-minus-send time before the handover (error: the smallest one-way delay through the pAR). Messages/bytes: Ethernet frames captured by tcpdump on the MN's nAR-side interface.")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var md bytes.Buffer
	if err := tb.Markdown(&md); err != nil {
		return err
	}
	files := map[string]func(io.Writer) error{
		"table1.md":   func(w io.Writer) error { _, err := w.Write(md.Bytes()); return err },
		"table1.json": tb.WriteJSON,
		"runs.json": func(w io.Writer) error {
			e := json.NewEncoder(w)
			e.SetIndent("", "  ")
			return e.Encode(runs)
		},
		"figure4.png": func(w io.Writer) error { return report.Figure4(w, runs) },
	}
	for name, fn := range files {
		var b bytes.Buffer
		if err := fn(&b); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(out, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprint(stdout, "\n", md.String())
	fmt.Fprintf(stdout, "\nwrote %s/{table1.md,table1.json,runs.json,figure4.png}\n", out)
	return nil
}
