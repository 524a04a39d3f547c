package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ikectx/ikectx/ipsecmod"
	"github.com/ikectx/ikectx/testbed/stress"
)

// stressFlags are `testbed stress`'s flags.
type stressFlags struct {
	opt        stress.Options
	rule       string
	kernelRule string
	json       string
	host       bool
	lab        bool
	labf       labFlags
	verbose    bool
}

func parseStressFlags(args []string) (stressFlags, error) {
	var f stressFlags
	fs := flag.NewFlagSet("testbed stress", flag.ContinueOnError)
	fs.IntVar(&f.opt.MNs, "mns", 200, "mobile nodes handed over to the nAR")
	fs.IntVar(&f.opt.Children, "children", 1, "child SAs per MN")
	fs.StringVar(&f.rule, "rule", "spi-dst", "the nAR's SAD lookup rule: spi, spi-dst or spi-dst-src")
	fs.StringVar(&f.kernelRule, "kernel-rule", "", "memory: the looser rule the nAR's SAD itself enforces on add and GETSPI (e.g. spi-dst with --rule spi)")
	fs.Uint64Var(&f.opt.Seed, "seed", 1, "seed of the harness's choices")
	fs.Float64Var(&f.opt.CollideESP, "collide-esp", 1, "fraction of MNs whose inbound ESP SPIs are taken on the nAR")
	fs.Float64Var(&f.opt.CollideIKE, "collide-ike", 0.5, "fraction of MNs whose IKE SPI is taken on the nAR")
	fs.IntVar(&f.opt.Others, "others", 0, "other MNs on the nAR whose SAs collide with nothing (0: as many as --mns, -1: none)")
	var spiRange uint
	fs.UintVar(&spiRange, "spi-range", 0, "draw the memory SADs' SPIs from [0x100, 0x100+N): a high collision rate (0: 32 bits)")
	fs.IntVar(&f.opt.MaxRoundTrips, "max-round-trips", 3, "Algorithm 1's MAX_ROUND_TRIPS")
	fs.DurationVar(&f.opt.Timer, "timer", 5*time.Second, "Algorithm 1's TIMER")
	fs.StringVar(&f.json, "json", "", "also write the report as JSON to this file (- for stdout)")
	fs.BoolVar(&f.host, "host", false, "memory SADs obeying the lookup rule, no kernel (the default)")
	fs.BoolVar(&f.lab, "lab", false, "run in the kernel lab: the nAR's and the MNs' SAs in Linux through PF_KEY, ESP traffic per MN")
	fs.DurationVar(&f.labf.timeout, "timeout", 15*time.Minute, "--lab: bound on the whole run (build, boot, payload)")
	fs.IntVar(&f.labf.mem, "mem", 512, "--lab: guest memory in MB")
	fs.BoolVar(&f.verbose, "v", false, "progress lines (--lab: also the boot log and the test's output)")
	if err := parseNoArgs(fs, args); err != nil {
		return f, err
	}
	if f.lab && f.host {
		return f, errors.New("--lab and --host exclude each other")
	}
	f.labf.verbose = f.verbose
	f.labf.run = "^TestLabStress$"
	f.opt.SPIRange = uint32(spiRange)
	if f.opt.CollideESP == 0 {
		f.opt.CollideESP = -1
	}
	if f.opt.CollideIKE == 0 {
		f.opt.CollideIKE = -1
	}
	r, err := ipsecmod.ParseRule(f.rule)
	if err != nil {
		return f, err
	}
	f.opt.Rule = r
	if f.kernelRule != "" {
		if f.lab {
			return f, errors.New("--kernel-rule is for the memory backend (the lab's kernel is Linux)")
		}
		if f.opt.KernelRule, err = ipsecmod.ParseRule(f.kernelRule); err != nil {
			return f, err
		}
	}
	return f, nil
}

func stressMain(ctx context.Context, args []string) int {
	f, err := parseStressFlags(args)
	if code, done := flagsDone("testbed stress", err); done {
		return code
	}
	if f.lab {
		return stressLab(ctx, f)
	}
	if f.verbose {
		f.opt.Logf = func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
	}
	rep, err := stress.Run(ctx, f.opt)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testbed stress: %v\n", err)
		return 1
	}
	return stressOutput(f, rep)
}

func stressOutput(f stressFlags, rep *stress.Report) int {
	rep.WriteTable(os.Stdout)
	if f.json != "" {
		b, err := rep.JSON()
		if err != nil {
			fmt.Fprintf(os.Stderr, "testbed stress: %v\n", err)
			return 1
		}
		b = append(b, '\n')
		if f.json == "-" {
			os.Stdout.Write(b)
		} else if err := os.WriteFile(f.json, b, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "testbed stress: %v\n", err)
			return 1
		}
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

// stressLab runs the lab test TestLabStress of testbed/stress in the VM
// with these parameters and prints the report it returns.
func stressLab(ctx context.Context, f stressFlags) int {
	ctx, cancel := context.WithTimeout(ctx, f.labf.timeout)
	defer cancel()
	s, err := newSession(ctx, f.labf)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testbed stress: %v\n", err)
		return 1
	}
	defer s.close()
	p, err := json.Marshal(stress.ParamsOf(f.opt))
	if err != nil {
		fmt.Fprintf(os.Stderr, "testbed stress: %v\n", err)
		return 1
	}
	var out io.Writer = io.Discard
	if f.verbose {
		out = os.Stderr
	}
	grab := &lineGrabber{prefix: "@@STRESS-JSON ", w: out}
	t0 := time.Now()
	sum, err := runLabTests(ctx, s, []string{"./testbed/stress"}, f.labf.run, []string{stress.EnvParams + "=" + string(p)}, grab)
	fmt.Fprintf(os.Stderr, "testbed stress: lab run %.1fs: %s\n", time.Since(t0).Seconds(), sum.Line())
	if err != nil {
		fmt.Fprintf(os.Stderr, "testbed stress: %v\n", err)
	}
	if grab.line == "" {
		fmt.Fprintln(os.Stderr, "testbed stress: the lab test returned no report (run with -v)")
		return 1
	}
	var rep stress.Report
	if err := json.Unmarshal([]byte(grab.line), &rep); err != nil {
		fmt.Fprintf(os.Stderr, "testbed stress: report: %v\n", err)
		return 1
	}
	code := stressOutput(f, &rep)
	if !sum.OK() && code == 0 {
		code = 1
	}
	return code
}

// lineGrabber passes output on and keeps the last line with prefix.
type lineGrabber struct {
	prefix string
	w      io.Writer
	buf    []byte
	line   string
}

func (g *lineGrabber) Write(b []byte) (int, error) {
	g.w.Write(b)
	g.buf = append(g.buf, b...)
	for {
		i := bytes.IndexByte(g.buf, '\n')
		if i < 0 {
			break
		}
		l := strings.TrimRight(string(g.buf[:i]), "\r")
		if j := strings.Index(l, g.prefix); j >= 0 {
			g.line = l[j+len(g.prefix):]
		}
		g.buf = g.buf[i+1:]
	}
	return len(b), nil
}
