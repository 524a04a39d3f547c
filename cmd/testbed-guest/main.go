// Command testbed-guest is the testbed's driver inside the kernel lab (see
// package testbed/scenario); `testbed table1` runs it in the VM and reads
// its marker lines back.
//
//	testbed-guest table1 [--runs N] [--scenarios main,aggressive,predictive,reactive]
//	                     [--delay D] [--loss P] [--before SEC] [--after SEC] [--bin DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/ikectx/ikectx/testbed/scenario"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = "usage: testbed-guest table1 [--runs N] [--scenarios LIST] [--delay D] [--loss P] [--before SEC] [--after SEC]"

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "table1" {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("testbed-guest table1", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runs := fs.Int("runs", 5, "runs per scenario")
	list := fs.String("scenarios", "all", "scenarios (main, aggressive, predictive, reactive)")
	delay := fs.String("delay", "", "netem delay on the access links (e.g. 5ms)")
	loss := fs.String("loss", "", "netem loss on the access links (e.g. 1%)")
	before := fs.Float64("before", 1.5, "seconds of traffic through the pAR before the handover")
	after := fs.Float64("after", 1, "seconds of traffic after the restoration")
	sched := fs.Bool("sched", false, "record the kernel's task switches during each handover: CPU time per process in the set-up window")
	bin := fs.String("bin", "/usr/local/bin", "directory of the project's binaries (racoon, setkey, udpgen, cxtpd, ipsec-cxtpd)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	scs, err := scenario.ParseScenarios(*list)
	if err != nil {
		fmt.Fprintf(stderr, "testbed-guest: %v\n", err)
		return 2
	}
	cfg := scenario.Config{Runs: *runs, Scenarios: scs, Delay: *delay, Loss: *loss, Before: *before, After: *after, Sched: *sched, Out: stdout, Log: stderr,
		Bin: func(name string) string { return filepath.Join(*bin, name) }}
	if err := scenario.Main(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "testbed-guest: %v\n", err)
		return 1
	}
	return 0
}
