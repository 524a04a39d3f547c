package conf

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loggedConfigs extracts the racoon.conf files that real racoon 0.8.2 ran with
// from the lab logs in shared/vectors/racoon-0.8.2 (the "===== racoon-A.conf"
// sections).
func loggedConfigs(t *testing.T) map[string]string {
	dir, _ := os.Getwd()
	var vec string
	for {
		c := filepath.Join(dir, "shared", "vectors", "racoon-0.8.2")
		if _, err := os.Stat(c); err == nil {
			vec = c
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("shared/vectors/racoon-0.8.2 not found beside the repository")
		}
		dir = parent
	}
	out := map[string]string{}
	for _, name := range []string{"main-tunnel.log", "aggr-transport.log"} {
		b, err := os.ReadFile(filepath.Join(vec, name))
		if err != nil {
			t.Fatal(err)
		}
		var cur string
		var body []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "===== ") {
				if cur != "" {
					out[name+"/"+cur] = strings.Join(body, "\n") + "\n"
				}
				cur, body = "", nil
				if n := strings.TrimPrefix(l, "===== "); strings.HasPrefix(n, "racoon-") && strings.HasSuffix(n, ".conf") {
					cur = n
				}
				continue
			}
			if cur != "" {
				body = append(body, l)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no racoon.conf section in the logs")
	}
	return out
}

// TestLoggedConfigs: the files real racoon negotiated with parse without a
// warning into the values racoon used.
func TestLoggedConfigs(t *testing.T) {
	for name, src := range loggedConfigs(t) {
		c, err := Parse(name, []byte(src))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(c.Warnings) != 0 {
			t.Errorf("%s: warnings %v", name, c.Warnings)
		}
		if len(c.Remotes) != 1 || len(c.SAInfos) != 1 || !strings.HasPrefix(c.Path(PathPreSharedKey), "/etc/racoon/psk-") ||
			c.Timer.Phase1 != time.Minute || c.Timer.Interval != 20*time.Second || len(c.Listen.ISAKMP) != 1 {
			t.Errorf("%s: %+v", name, c)
			continue
		}
		r := c.Remotes[0]
		peer := netip.MustParseAddr("fd00::2")
		if strings.Contains(name, "racoon-B") {
			peer = netip.MustParseAddr("fd00::1")
		}
		mode := ModeMain
		if strings.HasPrefix(name, "aggr") {
			mode = ModeAggressive
		}
		p := r.Proposals[0]
		if r.Address != peer || r.Port != 500 || len(r.ExchangeModes) != 1 || r.ExchangeModes[0] != mode ||
			r.NonceSize != 16 || !r.InitialContact || r.ProposalCheck != CheckObey || r.Lifetime != 8*time.Hour ||
			p.Encryption.DOI != 5 || p.Hash.DOI != 2 || p.AuthMethod.DOI != 1 || p.DHGroup.DOI != 2 || !p.Usable() {
			t.Errorf("%s: remote %+v proposal %+v", name, r, p)
		}
		si := c.SAInfos[0]
		if si.Local.Kind != SAAnonymous || si.PFSGroup.DOI != 2 || si.Lifetime != time.Hour ||
			si.Encryption[0].DOI != 3 || si.Auth[0].DOI != 2 || si.Compression[0].DOI != 2 {
			t.Errorf("%s: sainfo %+v", name, si)
		}
	}
}
