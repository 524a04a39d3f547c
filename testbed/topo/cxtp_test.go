package topo

import (
	"testing"

	cxtpdaemon "github.com/ikectx/ikectx/cxtp/daemon"
	ipsecdaemon "github.com/ikectx/ikectx/ipsecmod/daemon"
	"github.com/ikectx/ikectx/pfkey/setkey"
)

// The CXTP configurations are golden and accepted by the daemons' own
// parsers (unknown keys are errors there).
func TestGoldenCXTPConfigs(t *testing.T) {
	p := Default()
	cx := map[string]string{
		"par-cxtpd.toml": p.CxtpdAR("/run/tb/par", "/tb-par", true),
		"nar-cxtpd.toml": p.CxtpdAR("/run/tb/nar", "/tb-nar", false),
		"mn-cxtpd.toml":  p.CxtpdMN("/run/tb/mn", true),
	}
	for name, text := range cx {
		golden(t, name, text)
		if _, err := cxtpdaemon.ParseConfig(name, []byte(text)); err != nil {
			t.Errorf("cxtpd rejects %s: %v", name, err)
		}
	}
	mod := map[string]string{
		"par-ipsec-cxtpd.toml": p.IPsecCxtpd("/run/tb/par", "/tb-par", "/run/tb/par/racoon.sock", true),
		"nar-ipsec-cxtpd.toml": p.IPsecCxtpd("/run/tb/nar", "/tb-nar", "/run/tb/nar/racoon.sock", false),
	}
	for name, text := range mod {
		golden(t, name, text)
		if _, err := ipsecdaemon.ParseConfig(name, []byte(text)); err != nil {
			t.Errorf("ipsec-cxtpd rejects %s: %v", name, err)
		}
	}
	arar := p.ARARSetkey(p.PARCore, p.NARCore, true)
	golden(t, "par-arar.setkey", arar)
	if _, err := setkey.Parse("par-arar.setkey", []byte(arar), nil); err != nil {
		t.Error(err)
	}
}
