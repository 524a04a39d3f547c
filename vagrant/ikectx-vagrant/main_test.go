package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/ikectx/ikectx/testbed/report"
	"github.com/ikectx/ikectx/testbed/traffic"
)

// A fetched run on two clocks: the HA is 7 s ahead of the MN, the one-way
// delay is 1 ms before the handover; the MN attaches at t=10 s (its clock),
// datagrams 201-203 are lost, 204 (sent 10.2 s) arrives from the nCoA at
// 10.205 s MN time. The delay is 205 ms minus the 1 ms of the estimate.
func TestBuildRun(t *testing.T) {
	const s = int64(1e9)
	ahead := 7 * s
	dir := filepath.Join(t.TempDir(), report.Predictive+"-1")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "move.env"), []byte(fmt.Sprintf("leave_ns=%d\nattach_ns=%d\n", 9*s+800e6, 10*s)), 0o644)
	var rx bytes.Buffer
	enc := json.NewEncoder(&rx)
	for q := uint64(1); q <= 200; q++ {
		sent := int64(q) * 50e6
		oneWay := int64(1e6) + int64(q%3)*1e6
		enc.Encode(traffic.Record{Seq: q, Sent: sent, Recv: sent + oneWay + ahead, Src: "2001:db8:1::100"})
	}
	for q := uint64(204); q <= 210; q++ {
		sent := int64(q) * 50e6
		enc.Encode(traffic.Record{Seq: q, Sent: sent, Recv: sent + 5e6 + ahead, Src: "2001:db8:2::100"})
	}
	os.WriteFile(filepath.Join(dir, "rx.jsonl"), rx.Bytes(), 0o644)
	var pc bytes.Buffer
	w := pcapgo.NewWriter(&pc)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	os.WriteFile(filepath.Join(dir, "mn1.pcap"), pc.Bytes(), 0o644)

	r := BuildRun(dir, report.Predictive, 1)
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	if r.DelayMS != 204 || r.LinkChangeMS != 200 {
		t.Errorf("delay %v ms, link change %v ms", r.DelayMS, r.LinkChangeMS)
	}
	// 201..203 are missing: 201 was scheduled at 10.05 s, after the attachment
	if r.Lost != 3 || r.LostLink != 0 {
		t.Errorf("lost %d / %d", r.Lost, r.LostLink)
	}

	// the report over the folder, with a failed run next to it
	in := filepath.Dir(dir)
	bad := filepath.Join(in, report.Main+"-1")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "error.txt"), []byte("racoon never opened its admin socket\n"), 0o644)
	var out bytes.Buffer
	if err := writeReport(in, in, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "racoon never opened") || !strings.Contains(out.String(), "FreeBSD VMs") {
		t.Errorf("report output:\n%s", out.String())
	}
	for _, f := range []string{"table1.md", "table1.json", "runs.json", "figure4.png"} {
		if _, err := os.Stat(filepath.Join(in, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestClockOffsetNoData(t *testing.T) {
	if _, ok := ClockOffset([]traffic.Record{{Src: "x"}}, "y"); ok {
		t.Fatal("offset from no datagrams")
	}
}
