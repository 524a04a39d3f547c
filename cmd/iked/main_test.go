package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckExamples(t *testing.T) {
	for _, f := range []string{"mn.toml", "ar.toml"} {
		var out, errb bytes.Buffer
		if rc := run([]string{"-t", "-c", filepath.Join("..", "..", "examples", "iked", f)}, &out, &errb); rc != 0 {
			t.Fatalf("%s: rc %d: %s", f, rc, errb.String())
		}
		if !strings.Contains(out.String(), "configuration OK") {
			t.Fatal(out.String())
		}
	}
}

func TestCheckErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.toml")
	os.WriteFile(p, []byte("[global]\nport = 500\n\n[[connection]]\nname = \"x\"\nlocal_id = \"a@b\"\nlocal_ts = [\"::/0\"]\nremote_ts = [\"::/0\"]\nmode = \"beet\"\n"), 0o600)
	var out, errb bytes.Buffer
	if rc := run([]string{"-t", "-c", p}, &out, &errb); rc != 1 {
		t.Fatalf("rc %d", rc)
	}
	if want := "bad.toml:9: connection[0].mode: \"beet\" is neither tunnel nor transport"; !strings.Contains(errb.String(), want) {
		t.Fatalf("%q does not contain %q", errb.String(), want)
	}
	if rc := run([]string{"ctl"}, &out, &errb); rc != 2 {
		t.Fatalf("ctl without command: rc %d", rc)
	}
	if rc := run([]string{"ctl", "-s", filepath.Join(dir, "none.sock"), "status"}, &out, &errb); rc != 1 {
		t.Fatalf("ctl to no daemon: rc %d", rc)
	}
}
