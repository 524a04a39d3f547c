package topo

import (
	"strings"
	"testing"

	ikeddaemon "github.com/ikectx/ikectx/ikev2/daemon"
	ipsecdaemon "github.com/ikectx/ikectx/ipsecmod/daemon"
)

// The IKEv2 stations' files are golden and accepted by the daemons' own
// parsers (unknown keys are errors there).
func TestGoldenIKEv2Configs(t *testing.T) {
	p := Default()
	iked := map[string]string{
		"mn-iked.toml":  p.IkedConf("/run/tb/mn/iked.sock", []string{IDAR}, p.MNIKEv2Conns()),
		"par-iked.toml": p.IkedConf("/run/tb/par/iked.sock", []string{IDMN}, []IKEv2Conn{p.ARIKEv2Conn("mn", IDMN, p.PAR, p.PCoA)}),
		"nar-iked.toml": p.IkedConf("/run/tb/nar/iked.sock", []string{IDMN, IDMN2},
			[]IKEv2Conn{p.ARIKEv2Conn("mn", IDMN, p.NAR, p.NCoA), p.ARIKEv2Conn("mn2", IDMN2, p.NAR, p.MN2())}),
		"mn2-iked.toml": p.IkedConf("/run/tb/mn2/iked.sock", []string{IDAR}, []IKEv2Conn{p.MN2IKEv2Conn()}),
	}
	for name, text := range iked {
		golden(t, name, text)
		c, err := ikeddaemon.ParseConfig(name, []byte(text))
		if err != nil {
			t.Errorf("iked rejects %s: %v", name, err)
			continue
		}
		for _, k := range c.Conns {
			if !k.MOBIKE || k.UpdateSPI == 0 || len(k.LocalTS) == 0 {
				t.Errorf("%s: connection %s: MOBIKE %v UPDATE_SPI %d TS %v", name, k.Name, k.MOBIKE, k.UpdateSPI, k.LocalTS)
			}
		}
	}
	mod := map[string]string{
		"par-ipsec-cxtpd-iked.toml": p.IPsecCxtpdIked("/run/tb/par", "/tb-par", "/run/tb/par/iked.sock", true),
		"nar-ipsec-cxtpd-iked.toml": p.IPsecCxtpdIked("/run/tb/nar", "/tb-nar", "/run/tb/nar/iked.sock", false),
	}
	for name, text := range mod {
		golden(t, name, text)
		c, err := ipsecdaemon.ParseConfig(name, []byte(text))
		if err != nil {
			t.Errorf("ipsec-cxtpd rejects %s: %v", name, err)
			continue
		}
		if c.Iked.Socket == "" || c.Racoon.Socket != "" {
			t.Errorf("%s: iked %q racoon %q", name, c.Iked.Socket, c.Racoon.Socket)
		}
	}
}

// The strongSwan stations' swanctl.conf: the MN's "par" and "nar"
// connections (the latter trapped: charon negotiates on the ACQUIRE), the
// ARs' answers.
func TestGoldenSwanctlConfs(t *testing.T) {
	p := Default()
	files := map[string]string{
		"mn-swanctl.conf":  p.SwanctlConf(IDMN, []string{IDAR}, p.MNIKEv2Conns()[:2], map[string]bool{"nar": true}),
		"par-swanctl.conf": p.SwanctlConf(IDAR, []string{IDMN}, []IKEv2Conn{p.ARIKEv2Conn("mn", IDMN, p.PAR, p.PCoA)}, nil),
		"nar-swanctl.conf": p.SwanctlConf(IDAR, []string{IDMN}, []IKEv2Conn{p.ARIKEv2Conn("mn", IDMN, p.NAR, p.NCoA)}, nil),
	}
	for name, text := range files {
		golden(t, name, text)
		if strings.Count(text, "{") != strings.Count(text, "}") {
			t.Errorf("%s: unbalanced braces", name)
		}
	}
	if !strings.Contains(files["mn-swanctl.conf"], "start_action = trap") || strings.Contains(files["par-swanctl.conf"], "start_action = trap") {
		t.Error("only the MN's nar child is trapped")
	}
}

func TestGoldenMN2Commands(t *testing.T) {
	p := Default()
	if p.MN2().String() != "2001:db8:2::200" || !p.NARNet.Contains(p.MN2()) {
		t.Fatal(p.MN2())
	}
	var b strings.Builder
	for _, section := range []struct {
		name string
		cmds []Cmd
	}{{"mn2 build", p.MN2Build()}, {"mn2 teardown", p.MN2Teardown()}} {
		b.WriteString("# " + section.name + "\n")
		for _, c := range section.cmds {
			b.WriteString(c.String() + "\n")
		}
	}
	golden(t, "mn2-commands.txt", b.String())
}
