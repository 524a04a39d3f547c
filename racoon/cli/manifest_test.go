package cli

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// sharedDir finds shared/ beside the repository by walking up from the test
// directory (in CI the repository is cloned next to a copy of shared/).
func sharedDir(t testing.TB) string {
	dir, _ := os.Getwd()
	for {
		c := filepath.Join(dir, "shared")
		if _, err := os.Stat(filepath.Join(c, "fixtures", "MANIFEST.tsv")); err == nil {
			return c
		}
		c = filepath.Join(dir, "..", "shared")
		if _, err := os.Stat(filepath.Join(c, "fixtures", "MANIFEST.tsv")); err == nil {
			return c
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("shared/fixtures/MANIFEST.tsv not found beside the repository: manifest tests skipped")
		}
		dir = parent
	}
}

type fixture struct {
	path   string
	expect string
}

func racoonFixtures(t *testing.T) []fixture {
	shared := sharedDir(t)
	f, err := os.Open(filepath.Join(shared, "fixtures", "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fixture
	sc := bufio.NewScanner(f)
	header := true
	for sc.Scan() {
		if header {
			header = false
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 7 || !strings.HasPrefix(cols[0], "racoon/") {
			continue
		}
		out = append(out, fixture{filepath.Join(shared, "fixtures", cols[0]), cols[6]})
	}
	if len(out) == 0 {
		t.Fatal("no racoon fixtures in the manifest")
	}
	return out
}

var lineRef = regexp.MustCompile(`:(\d+):\d+: `)

// judge applies the expect_ikectx rule of fixtures/README.md.
func judge(t *testing.T, fx fixture, status int, stderr string) {
	t.Helper()
	base := filepath.Base(fx.path)
	switch {
	case fx.expect == "accept":
		if status != 0 {
			t.Errorf("%s: want exit 0, got %d:\n%s", base, status, stderr)
		}
	case fx.expect == "valid-syntax":
		if status == 0 {
			return
		}
		if strings.Contains(stderr, "syntax error") {
			t.Errorf("%s: valid-syntax fixture reported a syntax error:\n%s", base, stderr)
		}
		if !strings.Contains(stderr, fx.path+":") || !lineRef.MatchString(stderr) {
			t.Errorf("%s: the error does not name the file and line:\n%s", base, stderr)
		}
		if !regexp.MustCompile(`certificate|keyfile|no such file|not implement`).MatchString(stderr) {
			t.Errorf("%s: the error is neither a missing file nor an unsupported feature:\n%s", base, stderr)
		}
	case strings.HasPrefix(fx.expect, "reject:"):
		want, _ := strconv.Atoi(strings.TrimPrefix(fx.expect, "reject:"))
		if status == 0 {
			t.Errorf("%s: want a refusal at line %d, got exit 0", base, want)
			return
		}
		var errLine string
		for _, l := range strings.Split(stderr, "\n") {
			if strings.Contains(l, "ERROR") {
				errLine = l
				break
			}
		}
		m := lineRef.FindStringSubmatch(errLine)
		if !strings.Contains(errLine, fx.path+":") || m == nil {
			t.Errorf("%s: the error does not name the file and a line:\n%s", base, stderr)
			return
		}
		got, _ := strconv.Atoi(m[1])
		if got < want-1 || got > want+1 {
			t.Errorf("%s: error at line %d, want %d±1:\n%s", base, got, want, stderr)
		}
	default:
		t.Errorf("%s: unknown expectation %q", base, fx.expect)
	}
}

func TestManifestCheck(t *testing.T) {
	for _, fx := range racoonFixtures(t) {
		var out, errb bytes.Buffer
		status := Run([]string{"-t", "-f", fx.path}, &out, &errb)
		judge(t, fx, status, errb.String())
		if status == 0 && !strings.Contains(out.String(), "OK") {
			t.Errorf("%s: no OK line on stdout: %q", fx.path, out.String())
		}
	}
}

// TestManifestBinary builds cmd/racoon and runs it over every fixture.
func TestManifestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	fixtures := racoonFixtures(t)
	bin := filepath.Join(t.TempDir(), "racoon")
	build := exec.Command("go", "build", "-o", bin, "github.com/ikectx/ikectx/cmd/racoon")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, fx := range fixtures {
		cmd := exec.Command(bin, "-t", "-f", fx.path)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		status := 0
		if ee, ok := err.(*exec.ExitError); ok {
			status = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		judge(t, fx, status, errb.String())
	}
	// without -t the daemon starts; a missing file stops it with the reason
	cmd := exec.Command(bin, "-F", "-f", fixtures[0].path+".missing")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "could not read configuration file") {
		t.Errorf("racoon without -t: %v %s", err, out)
	}
}
