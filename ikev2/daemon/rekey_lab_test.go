//go:build lab && linux

package daemon

// Simultaneous rekeys between two iked with PF_KEY in the kernel lab: both
// control sockets ask for a rekey of the same child, or of the IKE SA, at
// the same moment. Whether a round collided is counted (iked's status), not
// asserted; after every round each end has one IKE SA and one child with
// the same SPIs, the kernel exactly one pair of ESP SAs in each namespace,
// and a ping crosses ESP.

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	labIKERe   = regexp.MustCompile(`(?m)^\w+: (\w+) (initiator|responder) spi ([0-9a-f]{16})_i ([0-9a-f]{16})_r`)
	labStatsRe = regexp.MustCompile(`collisions resolved: [^\n]*`)
)

func TestLabIkedRekeyCollision(t *testing.T) {
	a, b := "ikrca", "ikrcb"
	sa, sb := labIkedPair(t, a, b, "rca", "rcb")
	if _, err := Control(sa, "initiate", "home"); err != nil {
		t.Fatalf("initiate: %v", err)
	}
	ping := func(what string) {
		t.Helper()
		out, err := exec.Command("/sbin/ip", "netns", "exec", a, "ping", "-6", "-c", "1", "-W", "3", "-I", "fd00:a::1", "fd00:b::1").CombinedOutput()
		if err != nil {
			x, _ := exec.Command("/sbin/ip", "-n", a, "xfrm", "state").CombinedOutput()
			t.Fatalf("%s: ping: %v\n%s\nxfrm state:\n%s", what, err, out, x)
		}
	}
	// settled waits for one IKE SA and one child at both ends, with the
	// same SPIs, none of old, and one pair of ESP SAs in each kernel.
	settled := func(what string, old []string) (string, string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			x, _ := Control(sa, "status")
			y, _ := Control(sb, "status")
			ka, _ := exec.Command("/sbin/ip", "-n", a, "xfrm", "state").CombinedOutput()
			kb, _ := exec.Command("/sbin/ip", "-n", b, "xfrm", "state").CombinedOutput()
			i, j := labIKERe.FindAllStringSubmatch(x, -1), labIKERe.FindAllStringSubmatch(y, -1)
			ci, cj := childRe.FindAllStringSubmatch(x, -1), childRe.FindAllStringSubmatch(y, -1)
			ok := len(i) == 1 && len(j) == 1 && i[0][1] == "ESTABLISHED" && j[0][1] == "ESTABLISHED" && i[0][3] == j[0][3] && i[0][4] == j[0][4] &&
				len(ci) == 1 && len(cj) == 1 && ci[0][1] == cj[0][2] && ci[0][2] == cj[0][1] &&
				strings.Count(string(ka), "proto esp") == 2 && strings.Count(string(kb), "proto esp") == 2
			for _, o := range old {
				ok = ok && !strings.Contains(x, o) && !strings.Contains(y, o)
			}
			if ok {
				return x, y
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not settled\nA:\n%s\nB:\n%s\nA's SAD:\n%s\nB's SAD:\n%s", what, x, y, ka, kb)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	x, y := settled("IKE_AUTH", nil)
	ping("after IKE_AUTH")
	local := func(st string) (string, []string) {
		m := labIKERe.FindStringSubmatch(st)
		if m[2] == "initiator" {
			return m[3], []string{m[3], m[4]}
		}
		return m[4], []string{m[3], m[4]}
	}
	gone := func(err error) bool {
		// The other end's rekey completed before this end's command.
		return err != nil && (strings.Contains(err.Error(), "no IKE SA with local SPI") || strings.Contains(err.Error(), "no child SA with inbound SPI"))
	}
	for _, kind := range []string{"child", "ike"} {
		for i := 0; i < 3; i++ {
			var old []string
			var ca, cb []string
			if kind == "child" {
				c := childRe.FindStringSubmatch(x)
				old = []string{c[1], c[2]}
				ca, cb = []string{"rekey-child", c[1]}, []string{"rekey-child", c[2]}
			} else {
				la, spis := local(x)
				lb, _ := local(y)
				old = spis
				ca, cb = []string{"rekey-ike", la}, []string{"rekey-ike", lb}
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for n, cmd := range [][]string{ca, cb} {
				sock := map[int]string{0: sa, 1: sb}[n]
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[n] = Control(sock, cmd...)
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil && !gone(err) {
					t.Fatalf("%s rekey round %d: %v", kind, i, errs)
				}
			}
			what := fmt.Sprintf("%s rekey round %d", kind, i)
			x, y = settled(what, old)
			ping("after " + what)
			t.Logf("%s: A %s; B %s", what, labStatsRe.FindString(x), labStatsRe.FindString(y))
		}
	}
	ka := labRun(t, "/sbin/ip", "-n", a, "xfrm", "state")
	t.Logf("end:\nA:\n%s\nB:\n%s\nA's SAD:\n%s", x, y, ka)
}
