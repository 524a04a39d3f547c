package lab

import (
	"os/exec"
	"strings"
	"testing"
)

func TestInitScript(t *testing.T) {
	s, err := initScript([]string{"crc32c_generic", "af_key"}, []string{"A=1", "B=it's"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"modprobe -a crc32c_generic af_key ||",
		"export IKECTX_LAB=1 IKECTX_LAB_VM=1\n",
		"export B='it'\\''s'\n",
		"echo " + MarkerBegin + "\n",
		`echo "` + MarkerResult + `$rc"`,
		"poweroff -f",
		"mount -t tmpfs -o mode=755 tmpfs /run",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("/init lacks %q", want)
		}
	}
	if strings.Index(s, MarkerBegin) > strings.Index(s, GuestPayload) {
		t.Error("payload runs before @@BEGIN")
	}
	if sh, err := exec.LookPath("sh"); err == nil {
		if out, err := exec.Command(sh, "-n", "-c", s).CombinedOutput(); err != nil {
			t.Errorf("sh -n: %v: %s", err, out)
		}
	}
	for _, bad := range []string{"NOEQUALS", "1X=2", "A B=3"} {
		if _, err := initScript(nil, []string{bad}); err == nil {
			t.Errorf("env %q accepted", bad)
		}
	}
}
