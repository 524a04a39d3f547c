package setkey

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fixture is one setkey row of shared/fixtures/MANIFEST.tsv.
type fixture struct {
	path   string // absolute
	name   string // as in the manifest, e.g. setkey/01-....cf
	expect string // "accept" or "reject:N"
}

// findFixtures walks up from the test's directory looking for a folder that
// holds shared/fixtures/MANIFEST.tsv (in CI the repository is cloned next to
// a copy of shared/). IKECTX_FIXTURES may name the fixtures folder directly.
func findFixtures(t testing.TB) (string, bool) {
	if d := os.Getenv("IKECTX_FIXTURES"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "MANIFEST.tsv")); err == nil {
			return d, true
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		for _, c := range []string{filepath.Join(dir, "shared", "fixtures"), filepath.Join(dir, "fixtures")} {
			if _, err := os.Stat(filepath.Join(c, "MANIFEST.tsv")); err == nil {
				return c, true
			}
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", false
		}
		dir = up
	}
}

func loadFixtures(t testing.TB) []fixture {
	dir, ok := findFixtures(t)
	if !ok {
		t.Skip("shared/fixtures/MANIFEST.tsv not found in any parent folder (set IKECTX_FIXTURES to the fixtures folder)")
	}
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fixture
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	header := true
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if header {
			header = false
			continue
		}
		if len(cols) < 7 || !strings.HasPrefix(cols[0], "setkey/") {
			continue
		}
		out = append(out, fixture{path: filepath.Join(dir, cols[0]), name: cols[0], expect: strings.TrimSpace(cols[6])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s lists no setkey fixtures", filepath.Join(dir, "MANIFEST.tsv"))
	}
	return out
}

// checkOutcome compares a check's result with the manifest's expectation.
func checkOutcome(t *testing.T, fx fixture, ok bool, msg string) {
	t.Helper()
	switch {
	case fx.expect == "accept":
		if !ok {
			t.Errorf("%s: expected accept, got: %s", fx.name, msg)
		}
	case strings.HasPrefix(fx.expect, "reject:"):
		want, err := strconv.Atoi(strings.TrimPrefix(fx.expect, "reject:"))
		if err != nil {
			t.Fatalf("%s: bad expectation %q", fx.name, fx.expect)
		}
		if ok {
			t.Errorf("%s: expected a rejection at line %d, but it was accepted", fx.name, want)
			return
		}
		// The message must name the file and a line within one of the expected.
		base := filepath.Base(fx.path)
		i := strings.Index(msg, base+":")
		if i < 0 {
			t.Errorf("%s: error does not name the file: %s", fx.name, msg)
			return
		}
		rest := msg[i+len(base)+1:]
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			t.Errorf("%s: error has no line: %s", fx.name, msg)
			return
		}
		line, err := strconv.Atoi(rest[:j])
		if err != nil || line < want-1 || line > want+1 {
			t.Errorf("%s: error names line %q, want %d (±1): %s", fx.name, rest[:j], want, msg)
		}
	default:
		t.Skipf("%s: expectation %q is not for setkey", fx.name, fx.expect)
	}
}

func TestFixtures(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		t.Run(filepath.Base(fx.name), func(t *testing.T) {
			src, err := os.ReadFile(fx.path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(fx.path, src, &Options{Resolve: noResolve})
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			checkOutcome(t, fx, err == nil, msg)
		})
	}
}
