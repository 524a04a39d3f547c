package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	o, err := ParseArgs([]string{"-Fddv", "-f/tmp/r.conf", "-l", "/tmp/log", "-p", "7000", "-P4501", "-6", "-t"})
	if err != nil {
		t.Fatal(err)
	}
	if !o.Foreground || o.Debug != 2 || !o.Verbose || o.ConfigFile != "/tmp/r.conf" || o.LogFile != "/tmp/log" ||
		o.Port != 7000 || o.NATTPort != 4501 || o.Family != 6 || !o.Check {
		t.Errorf("%+v", o)
	}
	for _, bad := range [][]string{{"-x"}, {"-f"}, {"-p", "70000"}, {"-p", "x"}, {"extra"}} {
		if _, err := ParseArgs(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	o, _ = ParseArgs(nil)
	if o.ConfigFile != DefaultConfigFile() || o.Port != 500 {
		t.Errorf("defaults %+v", o)
	}
}

func TestRunWithoutCheck(t *testing.T) {
	var out, errb bytes.Buffer
	if st := Run([]string{"-F", "-f", filepath.Join(t.TempDir(), "none.conf")}, &out, &errb); st != 1 || !strings.Contains(errb.String(), "could not read configuration file") {
		t.Errorf("status %d: %s", st, errb.String())
	}
	if st := Run([]string{"-q"}, &out, &errb); st != 1 || !strings.Contains(errb.String(), "usage") {
		t.Errorf("bad flag: %d", st)
	}
	o, err := ParseArgs([]string{"-F", "--no-kernel", "--policy=/p", "--admin-sock", "/s", "-d"})
	if err != nil || !o.NoKernel || o.PolicyFile != "/p" || o.AdminSock != "/s" || o.Debug != 1 || !o.Foreground {
		t.Errorf("long options: %+v %v", o, err)
	}
	if _, err := ParseArgs([]string{"--bogus"}); err == nil {
		t.Error("--bogus accepted")
	}
}

func TestCheckMissingFile(t *testing.T) {
	var out, errb bytes.Buffer
	p := filepath.Join(t.TempDir(), "nope.conf")
	if st := Check(p, &out, &errb); st != 1 || !strings.Contains(errb.String(), p+": could not read configuration file") {
		t.Errorf("%d %s", st, errb.String())
	}
}

func TestCheckPSK(t *testing.T) {
	dir := t.TempDir()
	pskPath := filepath.Join(dir, "psk.txt")
	conf := `path pre_shared_key "` + pskPath + `";
remote 192.0.2.1 { exchange_mode main; proposal { encryption_algorithm aes; hash_algorithm sha1; authentication_method pre_shared_key; dh_group 2; } }
sainfo anonymous { encryption_algorithm aes; authentication_algorithm hmac_sha1; compression_algorithm deflate; }
`
	cf := filepath.Join(dir, "racoon.conf")
	if err := os.WriteFile(cf, []byte(conf), 0644); err != nil {
		t.Fatal(err)
	}
	run := func() (int, string) {
		var out, errb bytes.Buffer
		st := Check(cf, &out, &errb)
		return st, errb.String()
	}
	// missing psk file: a warning only
	if st, e := run(); st != 0 || !strings.Contains(e, "does not exist") {
		t.Errorf("missing psk: %d %s", st, e)
	}
	// world-readable: refused
	os.WriteFile(pskPath, []byte("192.0.2.1 secret\n"), 0644)
	os.Chmod(pskPath, 0644)
	if st, e := run(); st != 1 || !strings.Contains(e, "weak file permission") {
		t.Errorf("0644 psk: %d %s", st, e)
	}
	os.Chmod(pskPath, 0600)
	if st, e := run(); st != 0 || strings.Contains(e, "secret") {
		t.Errorf("0600 psk: %d %s", st, e)
	}
	// no key for the remote's address: a warning naming the remote
	os.WriteFile(pskPath, []byte("192.0.2.9 secret\n"), 0600)
	if st, e := run(); st != 0 || !strings.Contains(e, "remote 192.0.2.1:500") {
		t.Errorf("no key: %d %s", st, e)
	}
}
