package daemon

// Simultaneous rekeys against strongSwan (RFC 7296 2.8.1, 2.8.2): iked's
// control socket and swanctl ask both ends to rekey the same IKE SA, or the
// same child, at the same moment, in rounds with the start of iked's
// request swept across swanctl's start-up time, since the timing is not
// deterministic. Whether a round collided is measured (iked's collision
// counters, charon's log), not asserted; the end state is: exactly one IKE
// SA and one child at both ends, with the same SPIs, and the SA still
// carrying exchanges.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	swIKERe     = regexp.MustCompile(`(?m)^ikx: #\d+, (\w+), IKEv2, ([0-9a-f]{16})_i\*? ([0-9a-f]{16})_r`)
	swChildLine = regexp.MustCompile(`(?m)^\s+net: #\d+, reqid \d+, (\w+)`)
	ikIKERe     = regexp.MustCompile(`(?m)^ikx: (\w+) (initiator|responder) spi ([0-9a-f]{16})_i ([0-9a-f]{16})_r`)
	ikStatsRe   = regexp.MustCompile(`collisions resolved: (\d+) \(child (\d+), ike (\d+),[^\n]*`)
)

// oneAndSame: each end has exactly one IKE SA, established, with the same
// SPIs, and one child with crossed SPIs; not the SPIs in old.
func oneAndSame(old []string) func(sw, ik string) bool {
	return func(sw, ik string) bool {
		s, k := swIKERe.FindAllStringSubmatch(sw, -1), ikIKERe.FindAllStringSubmatch(ik, -1)
		if len(s) != 1 || len(k) != 1 || s[0][1] != "ESTABLISHED" || k[0][1] != "ESTABLISHED" || s[0][2] != k[0][3] || s[0][3] != k[0][4] {
			return false
		}
		if c := swChildLine.FindAllStringSubmatch(sw, -1); len(c) != 1 || c[0][1] != "INSTALLED" || len(ikChildRe.FindAllString(ik, -1)) != 1 {
			return false
		}
		for _, o := range old {
			if strings.Contains(sw, o) || strings.Contains(ik, o) {
				return false
			}
		}
		return sameChildren(sw, ik)
	}
}

// ikedLocalSPI is iked's SPI of its one IKE SA, from status.
func ikedLocalSPI(t *testing.T, ik string) (local string, both []string) {
	k := ikIKERe.FindStringSubmatch(ik)
	if k == nil {
		t.Fatalf("no IKE SA in iked's status:\n%s", ik)
	}
	if k[2] == "initiator" {
		return k[3], []string{k[3], k[4]}
	}
	return k[4], []string{k[3], k[4]}
}

func charonCollisions(c string) int {
	b, _ := os.ReadFile(c)
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "collision") && (strings.Contains(l, "won") || strings.Contains(l, "lost") || strings.Contains(l, "detected")) {
			n++
		}
	}
	return n
}

func TestInteropStrongSwanRekeyCollision(t *testing.T) {
	needInterop(t)
	l := newLab(t, fam6)
	// modp2048, for the children too (PFS): its DH widens the window in
	// which the requests cross.
	c := startCharon(t, l, "aes128-sha256-modp2048", "aes128-sha256-modp2048")
	k := startIked(t, l, "aes128-sha256-modp2048", "aes128-sha256-modp2048")
	if _, err := k.ctl("initiate", "ikx"); err != nil {
		t.Fatalf("initiate: %v", err)
	}
	_, ik := waitBoth(t, c, k, "IKE_SA_INIT + IKE_AUTH", oneAndSame(nil))
	log := filepath.Join(c.Dir, "charon.log")
	// swanctl's start-up (a process in the namespace, then vici, then a
	// charon worker) delays its request: iked's start is swept across
	// the time swanctl --rekey takes (a running average).
	const rounds = 16
	var took time.Duration
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		c.Swanctl("--stats")
		took += time.Since(t0) / 3
	}
	offset := func(i int) time.Duration { return took * time.Duration(i) / rounds }
	stats := func(ik string) (child, ike int) {
		m := ikStatsRe.FindStringSubmatch(ik)
		if m == nil {
			t.Fatalf("no collision counters in iked's status:\n%s", ik)
		}
		return atoi(m[2]), atoi(m[3])
	}
	type result struct{ iked, charon, late, early int }
	var ikeRes, childRes result
	for _, kind := range []string{"ike", "child"} {
		r := &ikeRes
		if kind == "child" {
			r = &childRes
		}
		for i := 0; i < rounds; i++ {
			local, spis := ikedLocalSPI(t, ik)
			child := ikChildRe.FindStringSubmatch(ik)
			old := spis
			if kind == "child" {
				old = []string{child[1], child[2]}
			}
			ch0, ike0 := stats(ik)
			cc0 := charonCollisions(log)
			var wg sync.WaitGroup
			var swOut string
			var swErr, ikErr error
			var swTook time.Duration
			wg.Add(2)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				if kind == "ike" {
					swOut, swErr = c.Swanctl("--rekey", "--ike", "ikx")
				} else {
					swOut, swErr = c.Swanctl("--rekey", "--child", "net")
				}
				swTook = time.Since(t0)
			}()
			go func() {
				defer wg.Done()
				if d := offset(i); d > 0 {
					time.Sleep(d)
				}
				if kind == "ike" {
					_, ikErr = k.ctl("rekey-ike", local)
				} else {
					_, ikErr = k.ctl("rekey-child", child[1])
				}
			}()
			wg.Wait()
			took = (took*3 + swTook) / 4
			if ikErr != nil && (strings.Contains(ikErr.Error(), "no IKE SA with local SPI") || strings.Contains(ikErr.Error(), "no child SA with inbound SPI")) {
				// charon's rekey had completed before iked's command
				// arrived: no collision this round.
				r.late++
				ikErr = nil
			}
			if swErr != nil && strings.Contains(swOut, "no matching SAs to rekey found") {
				// charon found no SA it could rekey at that moment
				// (iked's rekey was replacing it): no collision.
				r.early++
				swErr = nil
			}
			if swErr != nil || ikErr != nil {
				t.Fatalf("%s rekey round %d: swanctl %v %s; iked %v", kind, i, swErr, swOut, ikErr)
			}
			var sw string
			sw, ik = waitBoth(t, c, k, kind+" rekey round", oneAndSame(old))
			ch1, ike1 := stats(ik)
			cc := charonCollisions(log) - cc0
			got := ike1 - ike0
			if kind == "child" {
				got = ch1 - ch0
			}
			if got > 0 {
				r.iked++
			}
			if cc > 0 {
				r.charon++
			}
			t.Logf("%s round %d (iked %v after swanctl, which took %v): iked counted %d collision(s), charon logged %d line(s)\n%s%s",
				kind, i, offset(i).Round(time.Millisecond), swTook.Round(time.Millisecond), got, cc, sw, ik)
		}
	}
	t.Logf("rounds with a collision (iked's counter / charon's log) of %d: IKE SA rekeys %d / %d, child rekeys %d / %d; rounds where charon's rekey completed before iked's command: %d and %d, where charon found no SA to rekey: %d and %d",
		rounds, ikeRes.iked, ikeRes.charon, childRes.iked, childRes.charon, ikeRes.late, childRes.late, ikeRes.early, childRes.early)
	b, _ := os.ReadFile(log)
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "collision") || strings.Contains(l, "TEMPORARY_FAILURE") {
			lines = append(lines, l)
		}
	}
	t.Logf("iked: %scharon's log:\n%s", ikStatsRe.FindString(ik)+"\n", strings.Join(lines, "\n"))
	// The surviving SA still works: liveness, then a rekey by each end.
	local, spis := ikedLocalSPI(t, ik)
	if _, err := k.ctl("liveness", local); err != nil {
		t.Fatalf("liveness: %v", err)
	}
	if _, err := k.ctl("rekey-ike", local); err != nil {
		t.Fatalf("rekey-ike: %v", err)
	}
	_, ik = waitBoth(t, c, k, "IKE rekey after the rounds", oneAndSame(spis))
	child := ikChildRe.FindStringSubmatch(ik)
	if out, err := c.Swanctl("--rekey", "--child", "net"); err != nil {
		t.Fatalf("swanctl --rekey: %v\n%s", err, out)
	}
	_, ik = waitBoth(t, c, k, "child rekey after the rounds", oneAndSame([]string{child[1], child[2]}))
	local, _ = ikedLocalSPI(t, ik)
	if _, err := k.ctl("liveness", local); err != nil {
		t.Fatalf("liveness: %v", err)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
