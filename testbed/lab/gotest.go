package lab

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Markers around each test binary in the lab test payload.
const (
	markerTest   = "@@TEST "
	markerTestRC = "@@TESTRC "
)

// TestBinary is a compiled test binary for one package.
type TestBinary struct {
	Pkg  string // the package pattern it was built from, e.g. "./pfkey"
	Name string // file name, e.g. "pfkey.test", "pfkey_setkey.test"
	Path string // host path
	// Testdata is the package's testdata directory on the host, if it has
	// one; the guest copies it into the binary's working directory.
	Testdata string
}

// FindLabTestPackages returns, as "./dir" patterns, every package under root
// that has a *_lab_test.go file (hidden directories, testdata and vendor
// skipped), sorted.
func FindLabTestPackages(root string) ([]string, error) {
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			n := d.Name()
			if p != root && (strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || n == "testdata" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), "_lab_test.go") {
			rel, err := filepath.Rel(root, filepath.Dir(p))
			if err != nil {
				return err
			}
			seen["./"+filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lab: looking for lab tests under %s: %w", root, err)
	}
	var pkgs []string
	for p := range seen {
		pkgs = append(pkgs, strings.TrimSuffix(p, "/."))
	}
	sort.Strings(pkgs)
	return pkgs, nil
}

// testBinaryName turns "./pfkey/setkey" into "pfkey_setkey.test".
func testBinaryName(pkg string) string {
	p := strings.Trim(strings.TrimPrefix(filepath.ToSlash(pkg), "./"), "/")
	if p == "" || p == "." {
		p = "root"
	}
	if i := strings.LastIndex(p, "ikectx/ikectx/"); i >= 0 { // full import paths
		p = p[i+len("ikectx/ikectx/"):]
	}
	return strings.NewReplacer("/", "_", ".", "_").Replace(p) + ".test"
}

// BuildTestBinary compiles pkg's tests with the lab build tag, statically
// (CGO_ENABLED=0 go test -c -tags lab), into outDir.
func BuildTestBinary(ctx context.Context, root, pkg, outDir string) (TestBinary, error) {
	tb := TestBinary{Pkg: pkg, Name: testBinaryName(pkg)}
	tb.Path = filepath.Join(outDir, tb.Name)
	args := append([]string{"test", "-c", "-tags", "lab"}, goBuildFlags...)
	args = append(args, "-o", tb.Path, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = goEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return tb, fmt.Errorf("lab: go test -c -tags lab %s: %v\n%s", pkg, err, strings.TrimSpace(string(out)))
	}
	if _, err := os.Stat(tb.Path); err != nil {
		return tb, fmt.Errorf("lab: %s has no test files (go test -c wrote nothing)", pkg)
	}
	dir := pkg
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	if st, err := os.Stat(filepath.Join(dir, "testdata")); err == nil && st.IsDir() {
		tb.Testdata = filepath.Join(dir, "testdata")
	}
	return tb, nil
}

// guestTestdata is where a binary's testdata directory goes in the guest.
func guestTestdata(b TestBinary) string {
	return GuestTests + "/" + strings.TrimSuffix(b.Name, ".test") + ".testdata"
}

// TestFiles are the initramfs files for the binaries: each at
// /ikectx/tests/NAME.test, and its package's testdata directory, which
// TestScript copies into the binary's working directory as ./testdata.
func TestFiles(bins []TestBinary) []File {
	var files []File
	for _, b := range bins {
		files = append(files, File{Guest: GuestTests + "/" + b.Name, Host: b.Path})
		if b.Testdata != "" {
			files = append(files, File{Guest: guestTestdata(b), Host: b.Testdata})
		}
	}
	return files
}

// TestArgs are the arguments each lab test binary gets.
func TestArgs(run string, timeout time.Duration) []string {
	args := []string{"-test.v", "-test.run", run}
	if timeout > 0 {
		args = append(args, "-test.timeout", timeout.String())
	}
	return args
}

// TestScript is the guest payload that runs each binary (stored under
// /ikectx/tests, see TestFiles) in its own fresh directory under /tmp
// (holding a copy of the package's testdata, if any), between
// @@TEST/@@TESTRC markers that Tally reads, and resets the kernel's state
// after each (see resetScript). The payload's exit status is 0.
func TestScript(bins []TestBinary, args []string) string {
	var b strings.Builder
	b.WriteString("# ikectx lab test payload\n")
	for _, t := range bins {
		q := make([]string, len(args))
		for i, a := range args {
			q[i] = shellQuote(a)
		}
		fmt.Fprintf(&b, "echo '%s%s'\n", markerTest, t.Name)
		fmt.Fprintf(&b, "d=$(mktemp -d /tmp/%s.XXXXXX) && cd \"$d\" && ", strings.TrimSuffix(t.Name, ".test"))
		if t.Testdata != "" {
			fmt.Fprintf(&b, "cp -a %s ./testdata && ", guestTestdata(t))
		}
		fmt.Fprintf(&b, "%s/%s %s\n", GuestTests, t.Name, strings.Join(q, " "))
		fmt.Fprintf(&b, "echo \"%s%s rc=$?\"\ncd /tmp\n", markerTestRC, t.Name)
		b.WriteString(resetScript)
	}
	return b.String()
}

// resetScript runs after each test binary so that the next package starts
// from a clean kernel: leftover processes (daemons a test forgot) are
// killed, network namespaces deleted, the SAD and SPD flushed. It acts only
// inside the lab VM (IKECTX_LAB_VM=1, hostname lab, the payload shell a
// child of the guest's /init): on any other machine `kill -9 -1` would kill
// every process the user owns.
const resetScript = `if [ "$IKECTX_LAB_VM" = 1 ] && [ "$PPID" = 1 ] && [ "$(hostname)" = ` + guestHostname + ` ]; then
	kill -9 -1 2>/dev/null
	for ns in $(` + GuestIP + ` netns list 2>/dev/null | cut -d' ' -f1); do ` + GuestIP + ` netns del "$ns"; done
	` + GuestIP + ` xfrm state flush; ` + GuestIP + ` xfrm policy flush
fi
`

// PackageResult is the tally of one test binary.
type PackageResult struct {
	Name     string // binary name, e.g. "pfkey.test"
	Passed   int
	Failed   int
	Skipped  int
	ExitCode int
	Finished bool // the binary exited (its exit status is known)
}

// OK reports whether the binary finished cleanly with no failures.
func (p *PackageResult) OK() bool { return p.Finished && p.ExitCode == 0 && p.Failed == 0 }

// Status describes the package's outcome in a few words.
func (p *PackageResult) Status() string {
	switch {
	case !p.Finished:
		return "did not finish (VM crash or timeout)"
	case p.ExitCode != 0 && p.Failed == 0:
		return fmt.Sprintf("crashed or timed out (exit status %d)", p.ExitCode)
	case p.Failed > 0:
		return "FAIL"
	case p.Passed+p.Failed+p.Skipped == 0:
		return "no tests ran"
	}
	return "ok"
}

var resultLineRE = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): `)

// Tally reads the output of test binaries (the lab test payload's console
// lines, or host runs fed the same markers), counts every `--- PASS:`,
// `--- FAIL:` and `--- SKIP:` line (subtests included) per binary, and
// passes the lines on to Out. Write expects whole lines.
type Tally struct {
	Out      io.Writer // may be nil
	mu       sync.Mutex
	packages []*PackageResult
	cur      *PackageResult
	partial  string
}

// Write implements io.Writer; it splits p into lines.
func (t *Tally) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.partial + string(p)
	lines := strings.Split(s, "\n")
	t.partial = lines[len(lines)-1]
	for _, l := range lines[:len(lines)-1] {
		t.line(l)
	}
	return len(p), nil
}

func (t *Tally) line(l string) {
	l = strings.TrimRight(l, "\r")
	switch {
	case strings.HasPrefix(l, markerTest):
		t.cur = &PackageResult{Name: strings.TrimSpace(l[len(markerTest):])}
		t.packages = append(t.packages, t.cur)
		t.print("=== lab: " + t.cur.Name)
		return
	case strings.HasPrefix(l, markerTestRC):
		f := strings.Fields(l[len(markerTestRC):])
		if t.cur != nil && len(f) == 2 && strings.HasPrefix(f[1], "rc=") {
			if rc, err := strconv.Atoi(f[1][3:]); err == nil {
				t.cur.ExitCode = rc
				t.cur.Finished = true
				t.print(fmt.Sprintf("=== lab: %s: %d passed, %d failed, %d skipped: %s", t.cur.Name, t.cur.Passed, t.cur.Failed, t.cur.Skipped, t.cur.Status()))
				t.cur = nil
				return
			}
		}
	}
	if t.cur != nil {
		if m := resultLineRE.FindStringSubmatch(l); m != nil {
			switch m[1] {
			case "PASS":
				t.cur.Passed++
			case "FAIL":
				t.cur.Failed++
			case "SKIP":
				t.cur.Skipped++
			}
		}
	}
	t.print(l)
}

// flush ends a pending partial line.
func (t *Tally) flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.partial != "" {
		l := t.partial
		t.partial = ""
		t.line(l)
	}
}

func (t *Tally) print(s string) {
	if t.Out != nil {
		io.WriteString(t.Out, s+"\n")
	}
}

// Packages returns the per-binary results so far.
func (t *Tally) Packages() []PackageResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]PackageResult, len(t.packages))
	for i, p := range t.packages {
		out[i] = *p
	}
	return out
}

// Summary totals the results against the binaries that were expected to
// run. A binary that crashed, timed out or never finished counts as one
// failure (on top of any failed tests it printed); one that never started
// counts as one failure too.
func (t *Tally) Summary(expected []TestBinary) Summary {
	var s Summary
	got := map[string]bool{}
	for _, p := range t.Packages() {
		got[p.Name] = true
		s.Passed += p.Passed
		s.Failed += p.Failed
		s.Skipped += p.Skipped
		if !p.Finished || (p.ExitCode != 0 && p.Failed == 0) {
			s.Failed++
			s.Broken = append(s.Broken, p.Name+": "+p.Status())
		}
	}
	for _, b := range expected {
		if !got[b.Name] {
			s.Failed++
			s.Broken = append(s.Broken, b.Name+": never started")
		}
	}
	return s
}

// Summary is the total over all test binaries.
type Summary struct {
	Passed, Failed, Skipped int
	Broken                  []string // binaries that crashed, timed out or never ran
}

// OK reports success: no failure and at least one test ran.
func (s Summary) OK() bool { return s.Failed == 0 && s.Passed+s.Skipped > 0 }

// Line is the final plain line: "lab: N passed, N failed[, N skipped]".
func (s Summary) Line() string {
	l := fmt.Sprintf("lab: %d passed, %d failed", s.Passed, s.Failed)
	if s.Skipped > 0 {
		l += fmt.Sprintf(", %d skipped", s.Skipped)
	}
	return l
}

// RunTestsOnHost runs the binaries directly on this machine (whose kernel
// must have PF_KEY, ESP...), each in a fresh temporary directory with
// IKECTX_LAB=1 and extra env, feeding t the same markers as the VM payload.
func RunTestsOnHost(ctx context.Context, bins []TestBinary, args, env []string, t *Tally) error {
	for _, b := range bins {
		fmt.Fprintf(t, "%s%s\n", markerTest, b.Name)
		dir, err := os.MkdirTemp("", strings.TrimSuffix(b.Name, ".test")+".")
		if err != nil {
			return fmt.Errorf("lab: %w", err)
		}
		if b.Testdata != "" {
			if _, err := runCmd(ctx, "", "cp", "-a", b.Testdata, filepath.Join(dir, "testdata")); err != nil {
				os.RemoveAll(dir)
				return fmt.Errorf("lab: copying testdata for %s: %w", b.Name, err)
			}
		}
		cmd := exec.CommandContext(ctx, b.Path, args...)
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), "IKECTX_LAB=1"), env...)
		cmd.Stdout = t
		cmd.Stderr = t
		cmd.WaitDelay = 5 * time.Second
		err = cmd.Run()
		os.RemoveAll(dir)
		t.flush() // a last line without its newline
		rc := 0
		if err != nil {
			rc = -1
			if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() >= 0 {
				rc = ee.ExitCode()
			} else {
				fmt.Fprintf(t, "lab: running %s: %v\n", b.Name, err)
			}
		}
		fmt.Fprintf(t, "%s%s rc=%d\n", markerTestRC, b.Name, rc)
		if ctx.Err() != nil {
			return fmt.Errorf("lab: host test run stopped: %w", ctx.Err())
		}
	}
	return nil
}
