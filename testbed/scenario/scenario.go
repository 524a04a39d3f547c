package scenario

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ikectx/ikectx/testbed/report"
	"github.com/ikectx/ikectx/testbed/traffic"
)

// Config drives a table-1 run in the guest.
type Config struct {
	Runs      int
	Scenarios []string            // report scenario names; default all
	Delay     string              // netem delay on the access links
	Loss      string              // netem loss on the access links
	Before    float64             // seconds of traffic through the pAR before the handover
	After     float64             // seconds of traffic after the restoration
	Work      string              // scratch directory (configs, logs, sink files)
	Out       io.Writer           // the marker lines
	Log       io.Writer           // daemon logs of failed runs, diagnostics
	Bin       func(string) string // where a project binary is (default /usr/local/bin/NAME)
	// Sched records the kernel's task switches during each handover and
	// reports the CPU time per process between the attachment and the
	// first delivery (report.Run.CPUMS).
	Sched bool
}

// Markers of the guest's output.
const (
	MarkProgress = "@@PROGRESS "
	MarkRun      = "@@RUN "
	MarkNotRun   = "@@NOTRUN "
	MarkPcap     = "@@PCAP "
	MarkEndPcap  = "@@ENDPCAP"
)

// Output is what the host reads back from the guest's marker lines.
type Output struct {
	Runs     []report.Run
	NotRun   map[string]string
	Pcaps    map[string][]byte
	Progress []string
	// Corrupt counts marker lines or pcaps that did not decode (a console
	// under load may lose characters); the guest sends every run and pcap
	// twice, and the first good copy wins.
	Corrupt int
}

// Parse reads marker lines; other lines are ignored. A run line or a pcap
// that does not decode is counted in Corrupt and skipped; a run or pcap
// seen twice keeps its first good copy. A bad pcap name is an error.
func Parse(r io.Reader) (Output, error) {
	out := Output{NotRun: map[string]string{}, Pcaps: map[string][]byte{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64<<20)
	var pcapName string
	var b64 strings.Builder
	inPcap := false
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if inPcap {
			if line == MarkEndPcap {
				data, err := base64.StdEncoding.DecodeString(b64.String())
				if err != nil {
					out.Corrupt++
				} else if _, dup := out.Pcaps[pcapName]; !dup {
					out.Pcaps[pcapName] = data
				}
				inPcap = false
				b64.Reset()
				continue
			}
			b64.WriteString(strings.TrimSpace(line))
			continue
		}
		switch {
		case strings.HasPrefix(line, MarkProgress):
			out.Progress = append(out.Progress, strings.TrimPrefix(line, MarkProgress))
		case strings.HasPrefix(line, MarkRun):
			var r report.Run
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, MarkRun)), &r); err != nil || r.Scenario == "" {
				out.Corrupt++
				continue
			}
			if !slices.ContainsFunc(out.Runs, func(o report.Run) bool { return o.Scenario == r.Scenario && o.Index == r.Index }) {
				out.Runs = append(out.Runs, r)
			}
		case strings.HasPrefix(line, MarkNotRun):
			f := strings.SplitN(strings.TrimPrefix(line, MarkNotRun), " ", 2)
			if len(f) == 2 {
				out.NotRun[f[0]] = f[1]
			}
		case strings.HasPrefix(line, MarkPcap):
			if inPcap {
				out.Corrupt++ // the previous one lost its end marker
				b64.Reset()
			}
			pcapName = strings.TrimSpace(strings.TrimPrefix(line, MarkPcap))
			if pcapName == "" || strings.ContainsAny(pcapName, "/\\") || strings.HasPrefix(pcapName, ".") {
				return out, fmt.Errorf("scenario: bad pcap name %q", pcapName)
			}
			inPcap = true
		}
	}
	if inPcap {
		out.Corrupt++
	}
	return out, sc.Err()
}

// WritePcap writes a pcap between markers, base64 in 76-column lines.
func WritePcap(w io.Writer, name string, data []byte) error {
	var b strings.Builder
	b.WriteString(MarkPcap + name + "\n")
	s := base64.StdEncoding.EncodeToString(data)
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	if s != "" {
		b.WriteString(s + "\n")
	}
	b.WriteString(MarkEndPcap + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteRun writes one run line.
func WriteRun(w io.Writer, r report.Run) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s%s\n", MarkRun, b)
	return err
}

// ShortName is the short form of a scenario accepted by --scenarios.
func ShortName(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "main", report.Main:
		return report.Main, true
	case "aggressive", "aggr", report.Aggressive:
		return report.Aggressive, true
	case "predictive", report.Predictive:
		return report.Predictive, true
	case "reactive", report.Reactive:
		return report.Reactive, true
	case "ikev2", "iked", report.IKEv2Iked:
		return report.IKEv2Iked, true
	case "charon", "strongswan", report.IKEv2Charon:
		return report.IKEv2Charon, true
	case "ct2", report.IKEv2CT:
		return report.IKEv2CT, true
	case "collision", report.IKEv2Collision:
		return report.IKEv2Collision, true
	}
	return "", false
}

// ParseScenarios reads a comma-separated list ("" or "all": every one).
func ParseScenarios(s string) ([]string, error) {
	if s == "" || s == "all" {
		return append([]string(nil), report.Scenarios...), nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		n, ok := ShortName(strings.TrimSpace(f))
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (main, aggressive, predictive, reactive, ikev2, charon, ikev2-ct, collision)", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// LostAround counts the sequence numbers missing between the last datagram
// from the old address and the first from the new one: those scheduled at
// or after attach (lost to security set-up) and before it (to the link
// change). Missing datagrams were scheduled on the generator's fixed grid
// (seq * interval from its start): the grid's phase is the earliest
// sent - seq * interval over the received records (a send is never early,
// often late under load), so one late datagram before the gap does not
// shift the missing ones' times.
func LostAround(recs []traffic.Record, oldSrc, newSrc string, attach int64, interval time.Duration) (security, link int) {
	var last, first *traffic.Record
	for i := range recs {
		rec := &recs[i]
		if rec.Src == oldSrc && (last == nil || rec.Seq > last.Seq) {
			last = rec
		}
		if rec.Src == newSrc && (first == nil || rec.Seq < first.Seq) {
			first = rec
		}
	}
	if last == nil || first == nil || first.Seq <= last.Seq {
		return 0, 0
	}
	seen := map[uint64]bool{}
	origin := last.Sent - int64(last.Seq)*int64(interval)
	for _, rec := range recs {
		seen[rec.Seq] = true
		if rec.Probe() || (rec.Src != oldSrc && rec.Src != newSrc) {
			continue
		}
		origin = min(origin, rec.Sent-int64(rec.Seq)*int64(interval))
	}
	for q := last.Seq + 1; q < first.Seq; q++ {
		if seen[q] {
			continue
		}
		at := origin + int64(q)*int64(interval)
		if at >= attach {
			security++
		} else {
			link++
		}
	}
	return
}
