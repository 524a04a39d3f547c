package scenario

import (
	"strings"
	"testing"
)

// A piece of ftrace output as the lab kernel (6.1) writes it.
const schedSample = `# tracer: nop
#
#                                _-----=> irqs-off/BH-disabled
           <idle>-0       [000] d..2.    10.000100: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=cxtpd next_pid=456 next_prio=120
           cxtpd-456      [000] d..2.    10.002100: sched_switch: prev_comm=cxtpd prev_pid=456 prev_prio=120 prev_state=S ==> next_comm=ipsec-cxtpd next_pid=469 next_prio=120
     ipsec-cxtpd-469      [000] d..2.    10.005100: sched_switch: prev_comm=ipsec-cxtpd prev_pid=469 prev_prio=120 prev_state=S ==> next_comm=kworker/0:2 next_pid=47 next_prio=120
     kworker/0:2-47       [000] d..2.    10.005600: sched_switch: prev_comm=kworker/0:2 prev_pid=47 prev_prio=120 prev_state=I ==> next_comm=swapper/0 next_pid=0 next_prio=120
           <idle>-0       [000] d..2.    10.006600: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=my prog next_pid=999 next_prio=120
           <idle>-0       [000] d.h2.    10.006700: sched_wakeup: comm=cxtpd pid=456 prio=120 target_cpu=000
          my prog-999     [000] d..2.    10.008600: sched_switch: prev_comm=my prog prev_pid=999 prev_prio=120 prev_state=S ==> next_comm=cxtpd next_pid=456 next_prio=120
`

func TestSchedShares(t *testing.T) {
	const offset = 1_000_000_000_000 // wall = mono + offset
	sw, err := parseSchedSwitches(strings.NewReader(schedSample), offset)
	if err != nil {
		t.Fatal(err)
	}
	if len(sw) != 6 || sw[0].NextPID != 456 || sw[0].At != 10_000_100_000+offset || sw[4].Next != "my prog" {
		t.Fatalf("%+v", sw)
	}
	names := map[int]string{456: "cxtpd@nar", 469: "ipsec-cxtpd@nar"}
	// the whole trace: the last switch has no end and counts nothing
	got := cpuShares(sw, 0, 1<<62, names)
	want := map[string]float64{"cxtpd@nar": 2, "ipsec-cxtpd@nar": 3, "kernel": 0.5, "idle": 1, "other": 2}
	for k, v := range want {
		if d := got[k] - v; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: %v ms, want %v (all %v)", k, got[k], v, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("groups %v", got)
	}
	// a window cuts the intervals at its ends
	got = cpuShares(sw, 10_001_100_000+offset, 10_003_100_000+offset, names)
	if got["cxtpd@nar"] != 1 || got["ipsec-cxtpd@nar"] != 1 || len(got) != 2 {
		t.Errorf("window: %v", got)
	}
}
