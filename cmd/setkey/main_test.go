package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// fixturesDir walks up from the test's folder to a shared/fixtures with a
// MANIFEST.tsv (the repository is cloned next to a copy of shared/).
func fixturesDir(t *testing.T) string {
	if d := os.Getenv("IKECTX_FIXTURES"); d != "" {
		return d
	}
	dir, _ := os.Getwd()
	for {
		c := filepath.Join(dir, "shared", "fixtures")
		if _, err := os.Stat(filepath.Join(c, "MANIFEST.tsv")); err == nil {
			return c
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Skip("shared/fixtures/MANIFEST.tsv not found in any parent folder (set IKECTX_FIXTURES)")
		}
		dir = up
	}
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "setkey")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// The built binary, run as `setkey -n -f FILE`, gives every setkey fixture
// the outcome MANIFEST.tsv expects.
func TestBinaryFixtures(t *testing.T) {
	dir := fixturesDir(t)
	bin := buildBinary(t)
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 7 || !strings.HasPrefix(cols[0], "setkey/") {
			continue
		}
		n++
		path, expect := filepath.Join(dir, cols[0]), strings.TrimSpace(cols[6])
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "-n", "-f", path)
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		switch {
		case expect == "accept":
			if code != 0 {
				t.Errorf("%s: exit %d, want 0: %s", cols[0], code, stderr.String())
			}
		case strings.HasPrefix(expect, "reject:"):
			want, _ := strconv.Atoi(strings.TrimPrefix(expect, "reject:"))
			if code != 1 {
				t.Errorf("%s: exit %d, want 1", cols[0], code)
				continue
			}
			msg := stderr.String()
			prefix := "setkey: " + path + ":"
			if !strings.HasPrefix(msg, prefix) {
				t.Errorf("%s: error does not start with %q: %s", cols[0], prefix, msg)
				continue
			}
			rest := msg[len(prefix):]
			line, err := strconv.Atoi(rest[:strings.IndexByte(rest, ':')])
			if err != nil || line < want-1 || line > want+1 {
				t.Errorf("%s: error at line %d, want %d: %s", cols[0], line, want, msg)
			}
		}
	}
	if n == 0 {
		t.Fatal("no setkey fixtures in the manifest")
	}
}

func TestCommandLine(t *testing.T) {
	good := filepath.Join(t.TempDir(), "good.conf")
	os.WriteFile(good, []byte("spdadd 2001:db8::/64 2001:db8:1::/64 any -P out ipsec esp/tunnel/2001:db8::1-2001:db8::2/require;\n"+
		"add 2001:db8::1 2001:db8::2 esp 0x1000 -m tunnel -E aes-cbc \"0123456789abcdef\" -A hmac-sha1 \"01234567890123456789\";"), 0o600)
	bad := filepath.Join(t.TempDir(), "bad.conf")
	os.WriteFile(bad, []byte("flush;\nadd ::1 ::1 esp 1\n  -E aes-cbc \"short\";\n"), 0o600)
	cases := []struct {
		args   []string
		stdin  string
		code   int
		out    string // substring of stdout
		errout string // prefix of stderr
	}{
		{args: []string{"-n", "-f", good}, code: 0},
		{args: []string{"-nv", "-f", good}, code: 0, out: good + ":2: SADB_ADD esp 2001:db8::1->2001:db8::2 spi 0x1000"},
		{args: []string{"-n", "-T", "freebsd", "-v", "-f" + good}, code: 0, out: "(184 bytes, freebsd)"},
		{args: []string{"-n", "-f", bad}, code: 1, errout: "setkey: " + bad + ":3:14: invalid key length 40 bits for aes-cbc"},
		{args: []string{"-n", "-c"}, stdin: "spdflush;\nspdadd ::1 ::1 any -P out bogus;", code: 1, errout: "setkey: stdin:2:27: syntax error in policy"},
		{args: []string{"-n", "-c"}, stdin: "flush;", code: 0},
		{args: []string{"-n", "-T", "freebsd", "-c"}, stdin: "add ::1 ::1 ah 1 -A keyed-md5 \"x\";", code: 0},
		{args: []string{"-n", "-T", "linux", "-c"}, stdin: "add ::1 ::1 ah 1 -A keyed-md5 \"x\";", code: 1, errout: "setkey: stdin:1:21: authentication algorithm keyed-md5 is not supported by linux's PF_KEY"},
		{args: []string{"-x"}, code: 1, errout: "setkey: unknown option -x"},
		{args: []string{"-n"}, code: 1, errout: "setkey: give exactly one of"},
		{args: []string{"-f"}, code: 1, errout: "setkey: option -f needs an argument"},
		{args: []string{"-n", "-f", "/nonexistent/x.conf"}, code: 1, errout: "setkey: open /nonexistent/x.conf"},
		{args: []string{"-h"}, code: 0},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run(c.args, strings.NewReader(c.stdin), &out, &errb)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", c.args, code, c.code, errb.String())
		}
		if c.out != "" && !strings.Contains(out.String(), c.out) {
			t.Errorf("%v: stdout %q lacks %q", c.args, out.String(), c.out)
		}
		if c.errout != "" && !strings.HasPrefix(errb.String(), c.errout) {
			t.Errorf("%v: stderr %q, want prefix %q", c.args, errb.String(), c.errout)
		}
	}
}
