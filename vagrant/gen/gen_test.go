package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The committed vagrant/config/ is what the generator writes today: the
// FreeBSD lab stays in step with the Linux testbed's topo.
func TestCommittedConfigInStep(t *testing.T) {
	for _, f := range Files("") {
		path := filepath.Join("..", "config", f.Station, f.Name)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run `go run ./vagrant/gen`)", err)
		}
		if string(got) != f.Text {
			t.Errorf("%s differs from the generator's output: run `go run ./vagrant/gen`", path)
		}
	}
}

func TestStripFwd(t *testing.T) {
	in := "# c\nspdflush;\nspdadd a b any -P fwd ipsec\n\tesp/tunnel/x-y/require;\nspdadd a b any -P in discard;\n"
	want := "# c\nspdflush;\nspdadd a b any -P in discard;\n"
	if got := StripFwd(in); got != want {
		t.Fatalf("got %q", got)
	}
	for _, f := range Files("") {
		if f.Station == "nar" && f.Name == "ipsec-cxtpd.toml" && !strings.Contains(f.Text, `sad_lookup = "spi" `) {
			t.Errorf("nAR ipsec-cxtpd.toml without FreeBSD's SPI-only collision rule:\n%s", f.Text)
		}
		if strings.Contains(f.Text, "fwd") {
			t.Errorf("%s/%s keeps a fwd policy", f.Station, f.Name)
		}
	}
}

// Every generated file passes the project's own checkers: setkey -n -f,
// racoon -t -f, cxtpd -t -c, ipsec-cxtpd -t -c (paths under a temporary
// root, so the files they name exist).
func TestConfigsParse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four binaries")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	build := exec.Command("go", "build", "-o", bin+"/", "github.com/ikectx/ikectx/cmd/setkey",
		"github.com/ikectx/ikectx/cmd/racoon", "github.com/ikectx/ikectx/cmd/cxtpd", "github.com/ikectx/ikectx/cmd/ipsec-cxtpd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, st := range []string{"mn", "par", "nar"} {
		root := filepath.Join(tmp, st)
		dir := root + Dir
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		var checks [][]string
		for _, f := range Files(root) {
			if f.Station != st {
				continue
			}
			path := filepath.Join(dir, f.Name)
			if err := os.WriteFile(path, []byte(f.Text), f.Mode); err != nil {
				t.Fatal(err)
			}
			switch {
			case strings.HasSuffix(f.Name, ".setkey"):
				checks = append(checks, []string{"setkey", "-n", "-f", path})
			case strings.HasPrefix(f.Name, "racoon-"):
				checks = append(checks, []string{"racoon", "-t", "-f", path})
			case f.Name == "cxtpd.toml":
				checks = append(checks, []string{"cxtpd", "-t", "-c", path})
			case f.Name == "ipsec-cxtpd.toml":
				checks = append(checks, []string{"ipsec-cxtpd", "-t", "-c", path})
			}
		}
		for _, c := range checks {
			out, err := exec.Command(filepath.Join(bin, c[0]), c[1:]...).CombinedOutput()
			if err != nil {
				t.Errorf("%s: %s: %v\n%s", st, strings.Join(c, " "), err, out)
			}
		}
		if len(checks) < 4 {
			t.Errorf("%s: only %d files checked", st, len(checks))
		}
	}
}
