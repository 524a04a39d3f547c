//go:build lab && linux

package stress

// TestLabStress (go run ./cmd/testbed lab test ./testbed/stress): the MNs
// in one namespace, the nAR in another, both kernels through PF_KEY.
// spi-dst: 200 MNs, the nAR's SAD (Linux: SPI and destination) pre-filled
// with SAs of other MNs holding every MN's transferred inbound SPI.
// spi-dst-src: 20 MNs whose nCoA's previous holder left a stale SA with the
// same source, destination and SPI (iked's delete of the colliding SPI
// must spare it). Every MN ends with working, unique SAs: a UDP datagram
// per MN crosses ESP to the nAR and back, and the nAR's inbound SA of that
// MN counts it. `testbed stress --lab` runs this test with its own
// parameters (IKECTX_STRESS) and reads the report from the @@STRESS-JSON
// line.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ikectx/ikectx/ipsecmod"
)

func TestLabStress(t *testing.T) {
	if p, ok, err := ParamsFromEnv(); err != nil {
		t.Fatalf("%s: %v", EnvParams, err)
	} else if ok {
		o, err := p.Options()
		if err != nil {
			t.Fatal(err)
		}
		labStress(t, "stress-labenv", o)
		return
	}
	t.Run("spi-dst", func(t *testing.T) {
		labStress(t, "stress-labdst", Options{MNs: 200, Rule: ipsecmod.RuleSPIDst, Seed: 1})
	})
	t.Run("spi-dst-src", func(t *testing.T) {
		labStress(t, "stress-labsrc", Options{MNs: 20, Rule: ipsecmod.RuleSPIDstSrc, Seed: 2, Others: 10})
	})
}

func labStress(t *testing.T, name string, o Options) {
	l := NewLab(name)
	if _, err := os.Stat("/sbin/ip"); err == nil {
		l.IP = "/sbin/ip"
	}
	defer func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	}()
	o.Backend = l
	o.Logf = t.Logf
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.WriteTable(&b)
	t.Log("\n" + b.String())
	if j, err := json.Marshal(rep); err == nil {
		fmt.Printf("@@STRESS-JSON %s\n", j)
	}
	if !rep.OK() {
		t.Fatalf("%d problems", len(rep.Problems))
	}
	if rep.TrafficOK != rep.MNs || rep.RoundTrips["fallback"] != 0 || rep.ESPCollisions == 0 {
		t.Fatalf("traffic %d of %d, round trips %v, ESP collisions %d", rep.TrafficOK, rep.MNs, rep.RoundTrips, rep.ESPCollisions)
	}
}
