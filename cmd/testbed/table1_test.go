package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikectx/ikectx/testbed/report"
	"github.com/ikectx/ikectx/testbed/scenario"
	"github.com/ikectx/ikectx/testbed/traffic"
)

func TestTable1Flags(t *testing.T) {
	f, err := parseTable1Flags([]string{"--runs", "3", "--json", "out.json", "--scenarios", "main,predictive"})
	if err != nil || f.runs != 3 || f.jsonFile != "out.json" || f.outDir != "out/table1" {
		t.Fatalf("%+v %v", f, err)
	}
	for _, bad := range [][]string{{"--runs", "0"}, {"--scenarios", "ikev9"}, {"extra"}} {
		if _, err := parseTable1Flags(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if table1Main(t.Context(), []string{"--runs", "0"}) != 2 {
		t.Error("usage error must exit 2")
	}
}

func TestWriteTable1AndCheck(t *testing.T) {
	dir := t.TempDir()
	out := scenario.Output{NotRun: map[string]string{report.Reactive: "ipsec-cxtpd missing"}, Pcaps: map[string][]byte{}}
	recs := []traffic.Record{{Seq: 1, Sent: 1, Recv: 2, Src: "a"}, {Seq: 5, Sent: 5, Recv: 6e6, Src: "b"}}
	out.Runs = []report.Run{
		{Scenario: report.Main, Index: 1, DelayMS: 300, Restored: 6e6, Records: recs, Frames: make([]report.Frame, 11)},
		{Scenario: report.Predictive, Index: 1, DelayMS: 5, Restored: 6e6, Records: recs,
			Frames: []report.Frame{{Kind: report.KindCTAR, Len: 106}, {Kind: report.KindCTAA, Len: 82}},
			Rekey:  true, RekeyOK: true, RekeyMS: 120, RekeyFrames: 3, RekeyBytes: 700},
		{Scenario: report.Predictive, Index: 2, DelayMS: 5, Restored: 6e6,
			Frames: []report.Frame{{Kind: report.KindCTAR, Len: 110}},
			Rekey:  true, RekeyOK: true, RekeyMS: 140, RekeyFrames: 3, RekeyBytes: 700},
	}
	for i := range out.Runs[0].Frames {
		out.Runs[0].Frames[i] = report.Frame{Kind: report.KindIKE, Len: 150}
	}
	f := table1Flags{outDir: dir, jsonFile: filepath.Join(dir, "extra.json"), scenarios: "main,predictive,reactive"}
	if code, err := writeTable1(f, out); code != 0 || err != nil {
		t.Fatal(code, err)
	}
	for _, name := range []string{"table1.md", "table1.json", "extra.json", "runs.json", "figure4.png"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "table1.md"))
	if !strings.Contains(string(md), "not run (not selected (--scenarios))") || !strings.Contains(string(md), "not run (ipsec-cxtpd missing)") {
		t.Errorf("table:\n%s", md)
	}
	if !strings.Contains(string(md), "- quick-mode rekey MN<->nAR with the phase 1 transferred from the pAR, IKEv1 with context transfer (predictive): 2/2 ok, 130 (120–140) ms, 3 IKE frames / 700 bytes") {
		t.Errorf("no rekey line:\n%s", md)
	}
	p := checkTable1(out)
	if len(p) != 1 || !strings.Contains(p[0], "cxtp-predictive run 2: CTAR [110] CTAA []") {
		t.Errorf("check: %q", p)
	}
	// a context transfer without a successful rekey, or with more than a
	// quick mode's 3 frames, fails the check
	out.Runs[1].RekeyOK, out.Runs[1].RekeyError = false, "no new ESP SAs"
	out.Runs[2].RekeyFrames = 9
	p = checkTable1(out)
	if len(p) != 3 || !strings.Contains(p[0], "run 1: quick-mode rekey MN<->nAR on the transferred phase 1 failed: no new ESP SAs") ||
		!strings.Contains(p[2], "run 2: quick-mode rekey took 9 IKE frames, want 3") {
		t.Errorf("check: %q", p)
	}
}

func TestTable1From(t *testing.T) {
	dir := t.TempDir()
	out := scenario.Output{NotRun: map[string]string{report.Reactive: "why"}, Pcaps: map[string][]byte{}}
	out.Runs = []report.Run{{Scenario: report.Main, Index: 1, DelayMS: 300, Restored: 6e6,
		Records: []traffic.Record{{Seq: 1, Recv: 1e6}}, Frames: []report.Frame{{Kind: report.KindIKE, Len: 150}}}}
	if code, err := writeTable1(table1Flags{outDir: dir, scenarios: "all"}, out); code != 0 || err != nil {
		t.Fatal(code, err)
	}
	back, err := loadTable1(dir)
	if err != nil || len(back.Runs) != 1 || back.NotRun[report.Reactive] != "why" || back.Runs[0].Frames[0].Len != 150 {
		t.Fatalf("%+v %v", back, err)
	}
	dir2 := t.TempDir()
	if code, err := table1(t.Context(), table1Flags{outDir: dir2, from: dir, scenarios: "all"}); code != 0 || err != nil {
		t.Fatal(code, err)
	}
	if _, err := os.Stat(filepath.Join(dir2, "figure4.png")); err != nil {
		t.Fatal(err)
	}
}
