package topo

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ikectx/ikectx/pfkey/setkey"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestGoldenSetkey(t *testing.T) {
	p := Default()
	files := map[string]string{
		"mn-par.setkey":      p.MNSetkey(p.PCoA, p.PAR),
		"mn-nar.setkey":      p.MNSetkey(p.NCoA, p.NAR),
		"par.setkey":         p.ARSetkey(p.PAR, p.PCoA),
		"nar.setkey":         p.ARSetkey(p.NAR, p.NCoA),
		"nar-discard.setkey": p.NARDiscardSetkey(),
		"mn-racoon.conf":     p.RacoonConf("/run/tb/mn", "main", []netip.Addr{p.PCoA, p.NCoA}, []netip.Addr{p.PAR, p.NAR}),
		"mn-racoon-ct.conf":  p.RacoonConfPassive("/run/tb/mn", "main", []netip.Addr{p.PCoA, p.NCoA}, []netip.Addr{p.PAR, p.NAR}, []netip.Addr{p.NAR}),
		"mn-psk.txt":         p.PSKFile([]netip.Addr{p.PAR, p.NAR}),
	}
	for name, text := range files {
		golden(t, name, text)
		if strings.HasSuffix(name, ".setkey") {
			// every generated file parses with the project's setkey
			if _, err := setkey.Parse(name, []byte(text), nil); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

func TestGoldenCommands(t *testing.T) {
	p := Default()
	p.AccessDelay, p.AccessLoss = "5ms", "1%"
	var b strings.Builder
	for _, section := range []struct {
		name string
		cmds []Cmd
	}{{"build", p.Build()}, {"handover", p.Handover()}, {"teardown", p.Teardown()}} {
		b.WriteString("# " + section.name + "\n")
		for _, c := range section.cmds {
			b.WriteString(c.String() + "\n")
		}
	}
	golden(t, "commands.txt", b.String())
}

func TestNoNetemByDefault(t *testing.T) {
	for _, c := range Default().Build() {
		if c.Args[0] == TC {
			t.Fatalf("netem without flags: %s", c)
		}
	}
}
