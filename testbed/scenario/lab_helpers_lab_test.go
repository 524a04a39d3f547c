//go:build lab && linux

package scenario

import (
	"bytes"
	"os"
	"testing"

	"github.com/ikectx/ikectx/testbed/report"
)

// needLabVM skips t outside the lab VM.
func needLabVM(t *testing.T) {
	t.Helper()
	if os.Getenv("IKECTX_LAB_VM") == "" {
		t.Skip("needs the lab VM's binaries in /usr/local/bin and its namespaces")
	}
}

// labRunOnce runs scenario sc once (before s of traffic before the
// handover, 0.5 s after it, with the scheduler trace of table1 --sched)
// and returns its run and the driver's log. It
// skips t when the scenario cannot run here, fails it when the run did not
// complete, and reports an error when MN-HA traffic was not restored.
func labRunOnce(t *testing.T, sc string, before float64) (report.Run, *bytes.Buffer) {
	t.Helper()
	var out, log bytes.Buffer
	err := Main(t.Context(), Config{Runs: 1, Scenarios: []string{sc}, Before: before, After: 0.5, Sched: true, Work: t.TempDir(), Out: &out, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Parse(&out)
	if err != nil {
		t.Fatal(err)
	}
	if why, ok := res.NotRun[sc]; ok {
		t.Skip(why)
	}
	if len(res.Runs) != 1 {
		t.Fatalf("%d runs\n%s", len(res.Runs), log.String())
	}
	r := res.Runs[0]
	if r.Error != "" {
		t.Fatalf("%s\n%s", r.Error, log.String())
	}
	if r.Restored <= r.Attach {
		t.Errorf("MN-HA traffic not restored")
	}
	if len(r.CPUMS) == 0 {
		t.Errorf("no CPU shares from the scheduler trace\n%s", log.String())
	} else {
		t.Logf("%s: CPU in the set-up window: %s ms", sc, report.CPULine(r.CPUMS))
	}
	return r, &log
}
