//go:build lab && linux

package daemon

import (
	"regexp"
	"strconv"
	"testing"
)

// TestLabSCTPTransfers runs the end-to-end scenarios of TestE2ETransfers
// (predictive, reactive, forged token, replay, unknown peer, truncated and
// oversized messages, expiry) with SCTP on port 5091 between the ARs, in
// the kernel lab where the sctp module loads. Run it with
//
//	go run ./cmd/testbed lab test ./cxtp/daemon
//
// (cxtpd and cxtp-testmod are the VM's /usr/local/bin copies).
func TestLabSCTPTransfers(t *testing.T) {
	e := newE2E(t, "sctp", "15s") // emulation is slow: the helper sends take seconds
	runE2E(t, e)
	re := regexp.MustCompile(`(?m)^transport sctp sent (\d+) received (\d+)`)
	for _, c := range []string{e.parCfg, e.narCfg} {
		out, err := e.ctl(c, "status")
		if err != nil {
			t.Fatal(err)
		}
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no SCTP transport in status:\n%s", out)
		}
		sent, _ := strconv.Atoi(m[1])
		recv, _ := strconv.Atoi(m[2])
		if sent == 0 || recv == 0 {
			t.Fatalf("nothing crossed SCTP:\n%s", out)
		}
		t.Logf("%s", out)
	}
}
