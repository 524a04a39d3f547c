package daemon

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ikectx/ikectx/ipsecmod"
)

func TestExamples(t *testing.T) {
	files, err := filepath.Glob("../../examples/ipsec-cxtpd/*.toml")
	if err != nil || len(files) < 3 {
		t.Fatal(files, err)
	}
	for _, f := range files {
		c, err := LoadConfig(f)
		if err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		if rc := Main([]string{"-t", "-c", f}, &out, &errb); rc != 0 || !strings.Contains(out.String(), ": ok") {
			t.Fatalf("%s: rc %d %s %s", f, rc, out.String(), errb.String())
		}
		if filepath.Base(f) == "nar.toml" {
			m := c.Module
			if m.Address != netip.MustParseAddr("2001:db8:2::1") || m.Rule != ipsecmod.RuleSPIDst ||
				m.Predict != netip.MustParsePrefix("2001:db8:2::/64") || m.Lifetime != 60*time.Second || c.Racoon.Socket == "" ||
				c.Iked.Socket == "" || c.Iked.MaxRoundTrips != 3 || c.Iked.TimerValue != 5*time.Second {
				t.Fatalf("%+v", m)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	base := "address = \"2001:db8:2::1\"\n[shm]\nname = \"/x\"\n"
	cases := []struct{ text, want string }{
		{base + "bogus = 1\n", `f.toml:4: unknown key "shm.bogus"`},
		{"speed = 3\n" + base, `f.toml:1: unknown key "speed"`},
		{"address = \"nope\"\n[shm]\nname = \"/x\"\n", "f.toml:1: address:"},
		{"[shm]\nname = \"/x\"\n", "address: missing"},
		{"address = \"2001:db8:2::1\"\n", "shm.name: missing"},
		{base + "[fpt]\nipsec_sa = 1\n", "f.toml:5: fpt.ipsec_sa: FPT 1 out of range"},
		{base + "[fpt]\nipsec_sa = 0x8002\n", "used for both"},
		{"sad_lookup = \"dst\"\n" + base, "f.toml:1: sad_lookup: unknown SAD lookup rule"},
		{"lifetime = \"-1s\"\n" + base, "f.toml:1: lifetime: must be positive"},
		{"lifetime = 5\n" + base, "f.toml"},
		{"predict_prefix = \"10.0.0.0/8\"\n" + base, "predict_prefix: want an IPv6 prefix"},
		{base + "[log]\nlevel = \"loud\"\n", "f.toml:5: log.level"},
		{"address = \n", "f.toml:1:"},
		{base + "[iked]\nsocket = \"/s\"\nmax_round_trips = -1\n", "f.toml:6: iked.max_round_trips: -1 out of range"},
		{base + "[iked]\ntimer = \"soon\"\n", "f.toml:5: iked.timer:"},
		{base + "[iked]\nrounds = 3\n", `unknown key "iked.rounds"`},
	}
	for _, c := range cases {
		_, err := ParseConfig("f.toml", []byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err %v, want %q", c.text, err, c.want)
		}
	}
}

func TestCLIUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if rc := Main([]string{"frobnicate"}, &out, &errb); rc != 2 {
		t.Fatal(rc)
	}
	if rc := Main([]string{"mn-rewrite", "-old-coa", "2001:db8::1"}, &out, &errb); rc != 2 {
		t.Fatal(rc)
	}
	if rc := Main([]string{"mn-attach", "-old-coa", "2001:db8::1", "-new-coa", "2001:db8:2::1"}, &out, &errb); rc != 2 || !strings.Contains(errb.String(), "-old-ar and -new-ar are required") {
		t.Fatal(rc, errb.String())
	}
	if rc := Main([]string{"-t", "-c", filepath.Join(t.TempDir(), "none.toml")}, &out, &errb); rc != 1 {
		t.Fatal(rc)
	}
}

func TestStatusSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.sock")
	m, err := ipsecmod.New(ipsecmod.Config{Kernel: nullKernel{}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := listenUnix(path)
	if err != nil {
		t.Skip(err)
	}
	defer l.Close()
	go serveStatus(l, m)
	cfgText := "address = \"2001:db8:2::1\"\nstatus = \"" + path + "\"\n[shm]\nname = \"/x\"\n"
	cf := filepath.Join(dir, "c.toml")
	if err := os.WriteFile(cf, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if rc := Main([]string{"status", "-c", cf}, &out, &errb); rc != 0 || !strings.HasPrefix(out.String(), "captured 0 ") {
		t.Fatalf("rc %d %q %q", rc, out.String(), errb.String())
	}
}
