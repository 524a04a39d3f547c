package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestTallyCounts(t *testing.T) {
	var out strings.Builder
	tl := &Tally{Out: &out}
	feed := "@@TEST a.test\n=== RUN   TestLabA\n--- PASS: TestLabA (0.01s)\n=== RUN   TestLabB\n    --- PASS: TestLabB/sub (0.00s)\n" +
		"--- FAIL: TestLabB (0.00s)\n--- SKIP: TestLabC (0.00s)\nFAIL\n@@TESTRC a.test rc=1\n" +
		"@@TEST b.test\npanic: boom\n@@TESTRC b.test rc=2\n" +
		"@@TEST c.test\n--- PASS: TestLabX (0.00s)\n"
	// Feed in odd chunks: Write must reassemble lines.
	for i := 0; i < len(feed); i += 7 {
		end := min(i+7, len(feed))
		tl.Write([]byte(feed[i:end]))
	}
	ps := tl.Packages()
	if len(ps) != 3 {
		t.Fatalf("%d packages, want 3", len(ps))
	}
	if a := ps[0]; a.Passed != 2 || a.Failed != 1 || a.Skipped != 1 || a.ExitCode != 1 || !a.Finished || a.Status() != "FAIL" {
		t.Errorf("a = %+v (%s)", a, a.Status())
	}
	if b := ps[1]; b.Passed+b.Failed != 0 || b.ExitCode != 2 || !strings.Contains(b.Status(), "crashed") {
		t.Errorf("b = %+v (%s)", b, b.Status())
	}
	if c := ps[2]; c.Finished || c.Passed != 1 {
		t.Errorf("c = %+v", c)
	}
	sum := tl.Summary([]TestBinary{{Name: "a.test"}, {Name: "b.test"}, {Name: "c.test"}, {Name: "d.test"}})
	// 1 failed test in a, b crashed, c never finished, d never started.
	if sum.Passed != 3 || sum.Failed != 4 || sum.Skipped != 1 || sum.OK() {
		t.Errorf("summary %+v", sum)
	}
	if got, want := sum.Line(), "lab: 3 passed, 4 failed, 1 skipped"; got != want {
		t.Errorf("line %q, want %q", got, want)
	}
	if !strings.Contains(out.String(), "=== lab: a.test: 2 passed, 1 failed, 1 skipped: FAIL") {
		t.Errorf("per-package line missing from output:\n%s", out.String())
	}
}

func TestSummaryLineAndOK(t *testing.T) {
	if got := (Summary{Passed: 5}).Line(); got != "lab: 5 passed, 0 failed" {
		t.Errorf("line %q", got)
	}
	if (Summary{}).OK() {
		t.Error("zero tests counted as success")
	}
	if !(Summary{Skipped: 1}).OK() || !(Summary{Passed: 1}).OK() {
		t.Error("passing summary not OK")
	}
}

func TestTestBinaryName(t *testing.T) {
	for in, want := range map[string]string{
		"./pfkey":                        "pfkey.test",
		"./pfkey/setkey":                 "pfkey_setkey.test",
		"github.com/ikectx/ikectx/cxtp/": "cxtp.test",
		".":                              "root.test",
	} {
		if got := testBinaryName(in); got != want {
			t.Errorf("testBinaryName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFindLabTestPackages(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"pfkey/a_lab_test.go", "pfkey/setkey/b_lab_test.go", "pfkey/setkey/c_lab_test.go",
		"cxtp/x_test.go", ".git/y_lab_test.go", "z/testdata/q_lab_test.go", "top_lab_test.go"} {
		p := filepath.Join(root, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("package x\n"), 0o644)
	}
	pkgs, err := FindLabTestPackages(root)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(pkgs), "[. ./pfkey ./pfkey/setkey]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestTestScriptShell runs the generated payload with a fake test binary
// under the host's sh, checking markers, arguments, quoting and cwd.
func TestTestScriptShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	fake := "#!/bin/sh\necho \"args:$*\"\necho \"cwd:$(pwd)\"\ncat testdata/in.txt\necho '--- PASS: TestLabFake (0.00s)'\nexit 0\n"
	os.WriteFile(filepath.Join(dir, "p.test"), []byte(fake), 0o755)
	os.MkdirAll(filepath.Join(dir, "p.testdata"), 0o755)
	os.WriteFile(filepath.Join(dir, "p.testdata", "in.txt"), []byte("from-testdata\n"), 0o644)
	script := TestScript([]TestBinary{{Name: "p.test", Testdata: "/host/p/testdata"}}, TestArgs("^TestLab'x", 0))
	// Never run the guest's reset on the host: it kills every process.
	if !strings.Contains(script, resetScript) {
		t.Fatal("the payload does not reset the guest between binaries")
	}
	script = strings.ReplaceAll(script, resetScript, "")
	if strings.Contains(script, "kill") {
		t.Fatalf("refusing to run a payload that still kills processes on the host:\n%s", script)
	}
	script = strings.ReplaceAll(script, "mktemp -d /tmp/", "mktemp -d "+dir+"/")
	script = strings.ReplaceAll(script, GuestTests, dir)
	out, err := exec.Command(sh, "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	tl := &Tally{}
	tl.Write(out)
	ps := tl.Packages()
	if len(ps) != 1 || !ps[0].OK() || ps[0].Passed != 1 {
		t.Fatalf("tally %+v from\n%s", ps, out)
	}
	if !strings.Contains(string(out), "args:-test.v -test.run ^TestLab'x") || !strings.Contains(string(out), "cwd:"+dir+"/p.") || !strings.Contains(string(out), "from-testdata") {
		t.Errorf("unexpected output:\n%s", out)
	}
}

func TestRunTestsOnHost(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.test")
	os.WriteFile(ok, []byte("#!/bin/sh\necho \"lab=$IKECTX_LAB extra=$EXTRA\"\nprintf -- '--- PASS: TestLabA (0.00s)'\n"), 0o755)
	bad := filepath.Join(dir, "bad.test")
	os.WriteFile(bad, []byte("#!/bin/sh\necho panic\nexit 2\n"), 0o755)
	var out strings.Builder
	tl := &Tally{Out: &out}
	err := RunTestsOnHost(context.Background(), []TestBinary{{Name: "ok.test", Path: ok}, {Name: "bad.test", Path: bad}}, nil, []string{"EXTRA=1"}, tl)
	if err != nil {
		t.Fatal(err)
	}
	ps := tl.Packages()
	if len(ps) != 2 || !ps[0].OK() || ps[0].Passed != 1 || ps[1].OK() || ps[1].ExitCode != 2 {
		t.Errorf("results %+v\n%s", ps, out.String())
	}
	if !strings.Contains(out.String(), "lab=1 extra=1") {
		t.Errorf("environment not passed:\n%s", out.String())
	}
}

func TestTestFilesAndBuild(t *testing.T) {
	files := TestFiles([]TestBinary{{Name: "a.test", Path: "/h/a.test"}, {Name: "b_c.test", Path: "/h/b_c.test", Testdata: "/src/b/c/testdata"}})
	got := fmt.Sprint(files)
	want := fmt.Sprint([]File{
		{Guest: GuestTests + "/a.test", Host: "/h/a.test"},
		{Guest: GuestTests + "/b_c.test", Host: "/h/b_c.test"},
		{Guest: GuestTests + "/b_c.testdata", Host: "/src/b/c/testdata"},
	})
	if got != want {
		t.Errorf("files\n %s\nwant\n %s", got, want)
	}
}

// TestResetScriptGuarded checks (as text only: it must never run here) that
// the reset acts only inside the lab VM.
func TestResetScriptGuarded(t *testing.T) {
	i := strings.Index(resetScript, "kill -9 -1")
	g := strings.Index(resetScript, `if [ "$IKECTX_LAB_VM" = 1 ] && [ "$PPID" = 1 ] && [ "$(hostname)" = lab ]; then`)
	if i < 0 || g != 0 || !strings.HasSuffix(resetScript, "fi\n") {
		t.Errorf("reset script not guarded:\n%s", resetScript)
	}
}
