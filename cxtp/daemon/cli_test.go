package daemon

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckCommand runs `cxtpd -t -c FILE` (in-process) over every example
// config (accepted) and over the broken one (rejected with its line).
func TestCheckCommand(t *testing.T) {
	files, _ := filepath.Glob("../../examples/cxtpd/*.toml")
	if len(files) < 3 {
		t.Fatalf("examples: %v", files)
	}
	for _, f := range files {
		var out, errb bytes.Buffer
		if rc := Main([]string{"-t", "-c", f}, &out, &errb); rc != 0 || !strings.Contains(out.String(), ": ok") {
			t.Errorf("%s: rc %d out %q err %q", f, rc, out.String(), errb.String())
		}
	}
	var out, errb bytes.Buffer
	rc := Main([]string{"-t", "-c", "testdata/broken.toml"}, &out, &errb)
	if rc != 1 || !strings.Contains(errb.String(), "testdata/broken.toml:11:") || !strings.Contains(errb.String(), "peer.transport") {
		t.Fatalf("broken config: rc %d err %q", rc, errb.String())
	}
	rc = Main([]string{"-t", "-c", "testdata/does-not-exist.toml"}, &out, &errb)
	if rc != 1 {
		t.Fatal("missing file accepted")
	}
}

func TestStatusWithoutDaemon(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.toml")
	writeFile(t, cfg, "role = \"mn\"\naddress = \"2001:db8::1\"\ninterface = \"i\"\ncontrol = \""+filepath.Join(dir, "none.sock")+"\"\n[mobile]\nar = \"2001:db8::2\"\nkey = \"000102030405060708090a0b0c0d0e0f\"\n")
	var out, errb bytes.Buffer
	if rc := Main([]string{"status", "-c", cfg}, &out, &errb); rc != 1 || !strings.Contains(errb.String(), "is cxtpd running") {
		t.Fatalf("rc %d err %q", rc, errb.String())
	}
}
