package scenario

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ikectx/ikectx/testbed/report"
)

// schedTrace records the kernel scheduler's task switches (ftrace's
// sched:sched_switch event through tracefs) while a handover is measured,
// so that a run can say how the VM's CPU was shared between the stations'
// processes during the set-up delay (table1 --sched). The stations of the
// testbed share one emulated CPU; on the paper's four machines they did
// not.
type schedTrace struct {
	dir string
}

// tracefs directories, the standard one first.
var tracefsDirs = []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}

// startSched mounts tracefs when needed, clears the ring buffer and starts
// recording sched_switch with the monotonic clock.
func startSched() (*schedTrace, error) {
	var dir string
	for _, d := range tracefsDirs {
		if _, err := os.Stat(filepath.Join(d, "trace")); err == nil {
			dir = d
			break
		}
	}
	if dir == "" {
		dir = tracefsDirs[0]
		if out, err := exec.Command("mount", "-t", "tracefs", "nodev", dir).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("sched trace: mount tracefs on %s: %v: %s", dir, err, bytes.TrimSpace(out))
		}
	}
	t := &schedTrace{dir: dir}
	for _, w := range [][2]string{
		{"tracing_on", "0"},
		{"buffer_size_kb", "4096"},
		{"trace_clock", "mono"},
		{"trace", ""},
		{"events/sched/sched_switch/enable", "1"},
		{"tracing_on", "1"},
	} {
		if err := os.WriteFile(filepath.Join(dir, w[0]), []byte(w[1]), 0o644); err != nil {
			return nil, fmt.Errorf("sched trace: %w", err)
		}
	}
	return t, nil
}

// stop ends the recording and returns, per task name (names maps thread
// ids to a station's process name; others are grouped: "idle" for the
// idle task, "kernel" for kernel threads, "other"), the CPU time in ms
// between the wall-clock instants from and to (Unix ns).
func (t *schedTrace) stop(from, to int64, names map[int]string) (map[string]float64, error) {
	os.WriteFile(filepath.Join(t.dir, "tracing_on"), []byte("0"), 0o644)
	os.WriteFile(filepath.Join(t.dir, "events/sched/sched_switch/enable"), []byte("0"), 0o644)
	// the trace's monotonic stamps against the wall clock, read together
	var ts unix.Timespec
	wall := time.Now().UnixNano()
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return nil, fmt.Errorf("sched trace: %w", err)
	}
	offset := wall - ts.Nano()
	f, err := os.Open(filepath.Join(t.dir, "trace"))
	if err != nil {
		return nil, fmt.Errorf("sched trace: %w", err)
	}
	defer f.Close()
	defer os.WriteFile(filepath.Join(t.dir, "trace"), nil, 0o644)
	sw, err := parseSchedSwitches(f, offset)
	if err != nil {
		return nil, err
	}
	return cpuShares(sw, from, to, names), nil
}

// schedSwitch is one sched_switch event: at At (wall ns) the CPU went to
// task Next (thread id NextPID).
type schedSwitch struct {
	At      int64
	Next    string
	NextPID int
}

// "  <idle>-0  [000] d..2.  13.584080: sched_switch: prev_comm=... next_comm=udpgen next_pid=478 next_prio=120"
var schedSwitchRE = regexp.MustCompile(`\s(\d+)\.(\d{6}): sched_switch: .*next_comm=(.*) next_pid=(\d+) next_prio=`)

// parseSchedSwitches reads ftrace's text output; offset turns its
// monotonic time into wall-clock ns. Lines of other events are skipped.
func parseSchedSwitches(r interface{ Read([]byte) (int, error) }, offset int64) ([]schedSwitch, error) {
	var out []schedSwitch
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		m := schedSwitchRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		sec, err1 := strconv.ParseInt(m[1], 10, 64)
		usec, err2 := strconv.ParseInt(m[2], 10, 64)
		pid, err3 := strconv.Atoi(m[4])
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("sched trace: %q: %w", sc.Text(), err)
		}
		out = append(out, schedSwitch{At: sec*1e9 + usec*1e3 + offset, Next: m[3], NextPID: pid})
	}
	return out, sc.Err()
}

// cpuShares adds up, per name, the time each task held the CPU between
// from and to (ns); a task holds it from its switch-in to the next switch.
func cpuShares(sw []schedSwitch, from, to int64, names map[int]string) map[string]float64 {
	out := map[string]float64{}
	for i := 0; i+1 < len(sw); i++ {
		lo, hi := max(sw[i].At, from), min(sw[i+1].At, to)
		if hi <= lo {
			continue
		}
		out[taskGroup(sw[i], names)] += float64(hi-lo) / 1e6
	}
	return out
}

func taskGroup(s schedSwitch, names map[int]string) string {
	if n, ok := names[s.NextPID]; ok {
		return n
	}
	switch {
	case s.NextPID == 0:
		return "idle"
	case strings.HasPrefix(s.Next, "kworker") || strings.HasPrefix(s.Next, "ksoftirqd") ||
		strings.HasPrefix(s.Next, "rcu_") || strings.HasPrefix(s.Next, "migration"):
		return "kernel"
	}
	return "other"
}

// startSched starts the run's trace (s.sched) when the configuration asks
// for one; tracing that cannot start is logged and left out.
func (s *station) startSched(r *report.Run) {
	if !s.cfg.Sched {
		return
	}
	t, err := startSched()
	if err != nil {
		fmt.Fprintf(s.cfg.Log, "%s run %d: %v\n", r.Scenario, r.Index, err)
		return
	}
	s.sched = t
}

// stopSched fills r.CPUMS for the set-up window (r.Attach to r.Restored).
func (s *station) stopSched(r *report.Run) {
	if s.sched == nil {
		return
	}
	t := s.sched
	s.sched = nil
	cpu, err := t.stop(r.Attach, r.Restored, threadNames(s.pids()))
	if err != nil {
		fmt.Fprintf(s.cfg.Log, "%s run %d: %v\n", r.Scenario, r.Index, err)
		return
	}
	r.CPUMS = cpu
}

// threadNames maps the thread ids of each process (pid -> name) and of
// this process ("driver") to their names.
func threadNames(procs map[int]string) map[int]string {
	out := map[int]string{}
	add := func(dir, name string) {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if id, err := strconv.Atoi(e.Name()); err == nil {
				out[id] = name
			}
		}
	}
	for pid, name := range procs {
		add(fmt.Sprintf("/proc/%d/task", pid), name)
	}
	add("/proc/self/task", "driver")
	return out
}
