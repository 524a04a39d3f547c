package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ikectx/ikectx/testbed/lab"
	"github.com/ikectx/ikectx/testbed/strongswan"
)

// labFlags are the flags every lab subcommand takes.
type labFlags struct {
	timeout time.Duration
	mem     int
	verbose bool
	host    bool
	run     string
}

func parseLabFlags(name string, args []string, defTimeout time.Duration, withHost bool) (labFlags, []string, error) {
	var f labFlags
	fs := flag.NewFlagSet("testbed lab "+name, flag.ContinueOnError)
	fs.DurationVar(&f.timeout, "timeout", defTimeout, "bound on the whole run (build, boot, payload)")
	fs.IntVar(&f.mem, "mem", 512, "guest memory in MB")
	fs.BoolVar(&f.verbose, "v", false, "show the boot log and build steps")
	if withHost {
		fs.BoolVar(&f.host, "host", false, "run the test binaries on this host's kernel instead of the VM")
		fs.StringVar(&f.run, "run", "^TestLab", "the -test.run pattern given to each test binary")
	}
	if err := fs.Parse(args); err != nil {
		return f, nil, err
	}
	return f, fs.Args(), nil
}

// parseNoArgs parses args with fs and refuses arguments after the flags.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return nil
}

// flagsDone is how a subcommand ends when parsing its flags gave err:
// done with 0 after -h, done with 2 and the error on stderr for flags
// that do not parse or do not fit; not done when err is nil.
func flagsDone(cmd string, err error) (code int, done bool) {
	if errors.Is(err, flag.ErrHelp) {
		return 0, true
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", cmd, err)
		return 2, true
	}
	return 0, false
}

func labMain(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return 2
	}
	sub, rest := args[0], args[1:]
	var err error
	code := 0
	switch sub {
	case "fetch":
		code, err = labFetch(ctx, rest)
	case "test":
		code, err = labTest(ctx, "test", rest, nil)
	case "pfkey":
		code, err = labTest(ctx, "pfkey", rest, []string{"./pfkey", "./pfkey/setkey"})
	case "run":
		code, err = labRun(ctx, rest)
	case "demo":
		code, err = labDemo(ctx, rest)
	case "bench":
		code, err = labBench(ctx, rest)
	default:
		fmt.Fprintf(os.Stderr, "testbed lab: unknown subcommand %q\n%s\n", sub, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "testbed lab %s: %v\n", sub, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func logWriter(verbose bool) io.Writer {
	if verbose {
		return os.Stderr
	}
	return io.Discard
}

func labFetch(ctx context.Context, args []string) (int, error) {
	f, rest, err := parseLabFlags("fetch", args, 10*time.Minute, false)
	if err != nil {
		return 2, err
	}
	if len(rest) > 0 {
		return 2, fmt.Errorf("unexpected arguments %q", rest)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	t0 := time.Now()
	k, err := lab.Fetch(ctx, lab.FetchOptions{Log: os.Stderr})
	if err != nil {
		return 1, err
	}
	fmt.Printf("lab: kernel %s (%s) ready in %.1fs: %s\n", k.Release, k.Package, time.Since(t0).Seconds(), k.Dir)
	return 0, nil
}

// session is what every VM-booting subcommand prepares: the kernel and
// the project's files for the guest.
type session struct {
	f     labFlags
	root  string
	work  string
	k     lab.Kernel
	files []lab.File
	// strongSwan adds strongSwan's charon and swanctl with their plugins
	// and libraries (testbed/strongswan.LabFiles) to the image, when they
	// are installed on this host and IKECTX_LAB_STRONGSWAN is not "0"; set
	// it before prepare. lab test sets it; table1 sets it for its
	// strongSwan rows.
	strongSwan bool
}

func newSession(ctx context.Context, f labFlags) (*session, error) {
	s := &session{f: f}
	var err error
	if s.root, err = lab.RepoRoot(ctx); err != nil {
		return nil, err
	}
	if s.work, err = os.MkdirTemp("", "ikectx-testbed-"); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *session) close() { os.RemoveAll(s.work) }

// prepare fetches the kernel and builds the project's binaries.
func (s *session) prepare(ctx context.Context) error {
	var err error
	if s.k, err = lab.Fetch(ctx, lab.FetchOptions{Log: os.Stderr}); err != nil {
		return err
	}
	t0 := time.Now()
	s.files, err = lab.ProjectFiles(ctx, s.root, filepath.Join(s.work, "bin"), os.Stderr)
	if err != nil {
		return err
	}
	if s.f.verbose {
		fmt.Fprintf(os.Stderr, "lab: project binaries built in %.1fs\n", time.Since(t0).Seconds())
	}
	if s.strongSwan && os.Getenv("IKECTX_LAB_STRONGSWAN") == "0" {
		fmt.Fprintln(os.Stderr, "lab: strongSwan left out of the image (IKECTX_LAB_STRONGSWAN=0)")
	} else if s.strongSwan {
		sw, err := strongswan.LabFiles(ctx)
		if err != nil {
			// The strongSwan tests and rows skip themselves without it.
			fmt.Fprintf(os.Stderr, "lab: strongSwan left out of the image: %v\n", err)
		} else {
			s.files = append(s.files, sw...)
		}
	}
	return nil
}

// boot runs a payload in the VM, streaming its output to out.
func (s *session) boot(ctx context.Context, script string, env []string, extra []lab.File, out io.Writer) (lab.Result, error) {
	spec := lab.Spec{
		Kernel:   s.k,
		Script:   script,
		Env:      env,
		Files:    append(append([]lab.File(nil), s.files...), extra...),
		MemoryMB: s.f.mem,
		Output:   out,
		WorkDir:  filepath.Join(s.work, "vm"),
	}
	if s.f.verbose {
		spec.BootLog = os.Stderr
	}
	if err := os.MkdirAll(spec.WorkDir, 0o755); err != nil {
		return lab.Result{}, err
	}
	res, err := lab.Run(ctx, spec)
	fmt.Fprintf(os.Stderr, "lab: initramfs %.1f MB built in %.1fs; %s boot to payload %.1fs; VM ran %.1fs (qemu CPU %.1fs)\n",
		float64(res.ImageBytes)/1e6, res.BuildTime.Seconds(), res.Accel, res.BootTime.Seconds(), res.RunTime.Seconds(), res.CPUTime.Seconds())
	return res, err
}

func labRun(ctx context.Context, args []string) (int, error) {
	f, rest, err := parseLabFlags("run", args, 10*time.Minute, false)
	if err != nil {
		return 2, err
	}
	if len(rest) == 0 {
		return 2, errors.New("no command given")
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	s, err := newSession(ctx, f)
	if err != nil {
		return 1, err
	}
	defer s.close()
	if err := s.prepare(ctx); err != nil {
		return 1, err
	}
	res, err := s.boot(ctx, strings.Join(rest, " "), nil, nil, os.Stdout)
	if err != nil {
		return 1, err
	}
	return res.ExitCode, nil
}

func labDemo(ctx context.Context, args []string) (int, error) {
	f, rest, err := parseLabFlags("demo", args, 10*time.Minute, false)
	if err != nil {
		return 2, err
	}
	if len(rest) > 0 {
		return 2, fmt.Errorf("unexpected arguments %q", rest)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	s, err := newSession(ctx, f)
	if err != nil {
		return 1, err
	}
	defer s.close()
	script := filepath.Join(s.root, "examples", "esp-tunnel", "run.sh")
	if _, err := os.Stat(script); err != nil {
		return 1, fmt.Errorf("the demo script is missing: %w", err)
	}
	if err := s.prepare(ctx); err != nil {
		return 1, err
	}
	res, err := s.boot(ctx, "cd "+lab.GuestExamples+"/esp-tunnel && sh ./run.sh", nil, nil, os.Stdout)
	if err != nil {
		return 1, err
	}
	return res.ExitCode, nil
}

func labTest(ctx context.Context, name string, args, pkgs []string) (int, error) {
	f, rest, err := parseLabFlags(name, args, 25*time.Minute, true)
	if err != nil {
		return 2, err
	}
	if pkgs == nil {
		pkgs = rest
	} else if len(rest) > 0 {
		return 2, fmt.Errorf("unexpected arguments %q", rest)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	s, err := newSession(ctx, f)
	if err != nil {
		return 1, err
	}
	defer s.close()
	s.strongSwan = name == "test" // lab pfkey does not need it
	if len(pkgs) == 0 {
		if pkgs, err = lab.FindLabTestPackages(s.root); err != nil {
			return 1, err
		}
		if len(pkgs) == 0 {
			return 1, errors.New("no package has a *_lab_test.go file")
		}
	}
	sum, err := runLabTests(ctx, s, pkgs, f.run, nil, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab: %v\n", err)
	}
	fmt.Println(sum.Line())
	if !sum.OK() || err != nil {
		if sum.Passed+sum.Failed+sum.Skipped == 0 {
			fmt.Fprintln(os.Stderr, "lab: no test ran")
		}
		return 1, nil
	}
	return 0, nil
}

// runLabTests builds the packages' test binaries, runs them (in one VM, or
// on the host with --host) and returns the totals. Per-package results are
// printed to out as they come.
func runLabTests(ctx context.Context, s *session, pkgs []string, runRE string, env []string, out io.Writer) (lab.Summary, error) {
	tdir := filepath.Join(s.work, "tests")
	if err := os.MkdirAll(tdir, 0o755); err != nil {
		return lab.Summary{}, err
	}
	t0 := time.Now()
	var bins []lab.TestBinary
	var buildErrs []string
	for _, p := range pkgs {
		b, err := lab.BuildTestBinary(ctx, s.root, p, tdir)
		if err != nil {
			buildErrs = append(buildErrs, err.Error())
			continue
		}
		bins = append(bins, b)
	}
	if s.f.verbose {
		fmt.Fprintf(os.Stderr, "lab: %d test binaries built in %.1fs\n", len(bins), time.Since(t0).Seconds())
	}
	tally := &lab.Tally{Out: out}
	// Leave a minute of the budget for booting and reporting.
	perBinary := time.Until(deadlineOr(ctx, time.Now().Add(15*time.Minute))) - time.Minute
	if perBinary < time.Minute {
		perBinary = time.Minute
	}
	targs := lab.TestArgs(runRE, perBinary)
	var runErr error
	if len(bins) > 0 {
		if s.f.host {
			runErr = lab.RunTestsOnHost(ctx, bins, targs, env, tally)
		} else {
			// If the lab cannot start, every binary counts as never started.
			if runErr = s.prepare(ctx); runErr == nil {
				_, runErr = s.boot(ctx, lab.TestScript(bins, targs), env, lab.TestFiles(bins), tally)
			}
		}
	}
	sum := tally.Summary(bins)
	fmt.Fprintln(out, "--- lab results per package:")
	for _, p := range tally.Packages() {
		fmt.Fprintf(out, "%-28s %3d passed, %3d failed, %3d skipped  %s\n", p.Name, p.Passed, p.Failed, p.Skipped, p.Status())
	}
	for _, e := range buildErrs {
		sum.Failed++
		fmt.Fprintf(out, "build failure: %s\n", e)
	}
	return sum, runErr
}

func deadlineOr(ctx context.Context, d time.Time) time.Time {
	if t, ok := ctx.Deadline(); ok {
		return t
	}
	return d
}

func labBench(ctx context.Context, args []string) (int, error) {
	f, rest, err := parseLabFlags("bench", args, 20*time.Minute, true)
	if err != nil {
		return 2, err
	}
	if len(rest) > 0 {
		return 2, fmt.Errorf("unexpected arguments %q", rest)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	s, err := newSession(ctx, f)
	if err != nil {
		return 1, err
	}
	defer s.close()
	var lines strings.Builder
	out := io.MultiWriter(os.Stderr, &lines)
	sum, err := runLabTests(ctx, s, []string{"./pfkey"}, "^TestLabBenchInstall$", []string{"IKECTX_LAB_BENCH=1"}, out)
	// The test may print its line and t.Log it too: show each line once.
	seen := map[string]bool{}
	for _, l := range strings.Split(lines.String(), "\n") {
		if i := strings.Index(l, "bench:"); i >= 0 {
			b := strings.TrimSpace(l[i:])
			if !seen[b] {
				fmt.Println(b)
			}
			seen[b] = true
		}
	}
	found := len(seen) > 0
	if err != nil {
		return 1, err
	}
	if !sum.OK() {
		return 1, fmt.Errorf("the benchmark test failed (%s)", sum.Line())
	}
	if !found {
		return 1, errors.New("the benchmark printed no bench: line")
	}
	return 0, nil
}
