// Package topo describes the paper's four-station testbed (section 4.1,
// Figure 1) as Linux network namespaces and generates each station's
// configuration: the setkey files (the paper's SPD), racoon.conf and
// psk.txt, and the ip(8) commands that build and move the links.
//
// # Stations and links
//
//	          2001:db8:1::/64 (pAR access)          2001:db8:f1::/64
//	MN  mn0 ------------------------------ acc0 pAR core0 ------------ hap
//	    (pCoA 2001:db8:1::100)      (2001:db8:1::1)   (::1)        (::2)  HA
//	    mn1 ------------------------------ acc1 nAR core1 ------------ han  (2001:db8:3::1 on lo)
//	    (nCoA 2001:db8:2::100)      (2001:db8:2::1)   (::1)        (::2)
//	          2001:db8:2::/64 (nAR access)          2001:db8:f2::/64
//
// The paper's plan names MN.par.ipv6.com, pAR.par.ipv6.com, nAR.nar.ipv6.com
// and HA.ha.ipv6.com: one prefix per AR (the MN's care-of address is in its
// current AR's prefix) and one for the HA. The HA is the core router: the
// ARs reach each other (CXTP's AR-AR channel) and the HA through it.
//
// The MN has one veth per access link; a handover takes mn0 down (its pCoA
// goes with it), brings mn1 up with the nCoA and moves the default route.
// Neighbours on the access links are permanent (fixed MACs), so the
// measured delay is security set-up, not neighbour discovery.
//
// # SPD (the paper's section 4.1)
//
// MN-HA traffic runs in an ESP tunnel between the MN's CoA and its AR:
// on the MN `out` CoA->HA and `in` HA->CoA; on the AR the same with the
// directions swapped, plus a `fwd` policy (Linux checks forwarded
// traffic against fwd, not in). Before the MN has a context on the nAR the
// nAR discards MN-HA traffic from its access prefix (NARDiscardSetkey).
package topo

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Namespace names.
const (
	NSMN  = "mn"
	NSPAR = "par"
	NSNAR = "nar"
	NSHA  = "ha"
)

// Plan is the addressing plan.
type Plan struct {
	PCoA, NCoA       netip.Addr // the MN's care-of addresses on the pAR's and nAR's links
	PAR, NAR         netip.Addr // the ARs' access-link addresses (tunnel endpoints, IKE peers)
	PARCore, NARCore netip.Addr // the ARs' core addresses (AR-AR channel)
	HACoreP, HACoreN netip.Addr // the HA's ends of the core links
	HA               netip.Addr // the HA's address (the UDP sink)
	PARNet, NARNet   netip.Prefix
	HANet            netip.Prefix
	PARCoreNet       netip.Prefix
	NARCoreNet       netip.Prefix
	MNMAC0, MNMAC1   string // the MN's interfaces mn0 (pAR link) and mn1 (nAR link)
	PARMAC, NARMAC   string // acc0, acc1
	PSK              string // racoon's pre-shared key for every MN-AR pair
	SinkPort         uint16
	AccessDelay      string // netem delay on the access links ("" none), e.g. "5ms"
	AccessLoss       string // netem loss ("" none), e.g. "1%"
	// TransferTime is the ARs' cxtpd max_transfer_time, the bound of the
	// pAR's capture ("" 2s).
	TransferTime string
}

// Default is the plan documented above.
func Default() Plan {
	a := netip.MustParseAddr
	p := netip.MustParsePrefix
	return Plan{
		PCoA: a("2001:db8:1::100"), NCoA: a("2001:db8:2::100"),
		PAR: a("2001:db8:1::1"), NAR: a("2001:db8:2::1"),
		PARCore: a("2001:db8:f1::1"), NARCore: a("2001:db8:f2::1"),
		HACoreP: a("2001:db8:f1::2"), HACoreN: a("2001:db8:f2::2"),
		HA:     a("2001:db8:3::1"),
		PARNet: p("2001:db8:1::/64"), NARNet: p("2001:db8:2::/64"), HANet: p("2001:db8:3::/64"),
		PARCoreNet: p("2001:db8:f1::/64"), NARCoreNet: p("2001:db8:f2::/64"),
		MNMAC0: "02:00:00:00:01:64", MNMAC1: "02:00:00:00:02:64",
		PARMAC: "02:00:00:00:01:01", NARMAC: "02:00:00:00:02:01",
		PSK:      "ikectx-testbed-psk",
		SinkPort: 9000,
	}
}

// MNSetkey is the MN's SPD while attached with coa to the AR ar (the
// paper's listing).
func (p Plan) MNSetkey(coa, ar netip.Addr) string {
	return fmt.Sprintf(`# MN attached to %[3]s with care-of address %[1]s: MN-HA traffic in an ESP tunnel to the AR
spdflush;
spdadd %[1]s %[2]s any -P out ipsec
	esp/tunnel/%[1]s-%[3]s/require;
spdadd %[2]s %[1]s any -P in ipsec
	esp/tunnel/%[3]s-%[1]s/require;
`, coa, p.HA, ar)
}

// ARSetkey is an AR's SPD for an MN at coa: the MN's listing with in and
// out swapped, and fwd for the forwarded direction.
func (p Plan) ARSetkey(ar, coa netip.Addr) string {
	return fmt.Sprintf(`# AR %[3]s, MN at %[1]s: MN-HA traffic in an ESP tunnel to the MN
spdflush;
spdadd %[2]s %[1]s any -P out ipsec
	esp/tunnel/%[3]s-%[1]s/require;
spdadd %[1]s %[2]s any -P in ipsec
	esp/tunnel/%[1]s-%[3]s/require;
spdadd %[1]s %[2]s any -P fwd ipsec
	esp/tunnel/%[1]s-%[3]s/require;
`, coa, p.HA, ar)
}

// NARDiscardSetkey is the nAR's default SPD (paper: "By default, the nAR's
// SPD discard the IP traffic from any MN"): traffic from its access prefix
// to the HA's is discarded until a context installs the MN's policies.
func (p Plan) NARDiscardSetkey() string {
	return fmt.Sprintf(`# nAR default: discard the MNs' traffic to the HA until a context is active
spdflush;
spdadd %[1]s %[2]s any -P fwd discard;
spdadd %[1]s %[2]s any -P in discard;
`, p.NARNet, p.HANet)
}

// RacoonConf is a station's racoon.conf: it listens on listen, talks to
// peers with exchange mode mode (main or aggressive), PSK, 3des/sha1/
// modp1024 with PFS group 2 (the fit of the paper's figures, see
// notes/racoon-behaviour.md). dir holds psk.txt and the admin socket.
func (p Plan) RacoonConf(dir, mode string, listen []netip.Addr, peers []netip.Addr) string {
	return p.RacoonConfPassive(dir, mode, listen, peers, nil)
}

// RacoonConfPassive is RacoonConf with `passive on` in the remotes of the
// peers in passive: racoon answers them but never initiates, and ignores
// the kernel's ACQUIREs for them. The MN of the context-transfer scenarios
// has it for the nAR: its SA to the nAR arrives by context transfer while
// the kernel holds the first packets (and raises an ACQUIRE for them).
func (p Plan) RacoonConfPassive(dir, mode string, listen, peers, passive []netip.Addr) string {
	var b strings.Builder
	fmt.Fprintf(&b, "path pre_shared_key \"%s/psk.txt\";\nlisten {\n", dir)
	for _, a := range listen {
		fmt.Fprintf(&b, "\tisakmp %s [500];\n", a)
	}
	fmt.Fprintf(&b, "\tadminsock \"%s/racoon.sock\";\n}\ntimer { counter 5; interval 3 sec; }\n", dir)
	for _, peer := range peers {
		pass := ""
		if slices.Contains(passive, peer) {
			pass = "\tpassive on;\n"
		}
		fmt.Fprintf(&b, `remote %s {
	exchange_mode %s;
	my_identifier address;
	nonce_size 8;
%s	proposal { encryption_algorithm 3des; hash_algorithm sha1; authentication_method pre_shared_key; dh_group modp1024; }
}
`, peer, mode, pass)
	}
	b.WriteString(`sainfo anonymous {
	pfs_group modp1024;
	lifetime time 1 hour;
	encryption_algorithm aes 128;
	authentication_algorithm hmac_sha1;
	compression_algorithm deflate;
}
`)
	return b.String()
}

// PSKFile is psk.txt for a station talking to peers.
func (p Plan) PSKFile(peers []netip.Addr) string {
	var b strings.Builder
	for _, peer := range peers {
		fmt.Fprintf(&b, "%s %s\n", peer, p.PSK)
	}
	return b.String()
}

// Cmd is one command run in a namespace ("" for the initial one).
type Cmd struct {
	NS   string
	Args []string
}

func (c Cmd) String() string {
	if c.NS == "" {
		return strings.Join(c.Args, " ")
	}
	return "[" + c.NS + "] " + strings.Join(c.Args, " ")
}

// IP is the iproute2 binary (busybox's applet lacks netns/veth details).
var IP = "/sbin/ip"

// TC is the iproute2 tc binary.
var TC = "/sbin/tc"

func ip(ns string, args ...string) Cmd { return Cmd{NS: ns, Args: append([]string{IP}, args...)} }

// Build is the list of commands that create the namespaces, links,
// addresses and routes with the MN attached to the pAR. Teardown removes
// them.
func (p Plan) Build() []Cmd {
	s := func(a netip.Addr) string { return a.String() }
	pl := func(a netip.Addr, n netip.Prefix) string { return fmt.Sprintf("%s/%d", a, n.Bits()) }
	var c []Cmd
	for _, ns := range []string{NSMN, NSPAR, NSNAR, NSHA} {
		c = append(c, ip("", "netns", "add", ns), ip(ns, "link", "set", "lo", "up"))
	}
	c = append(c,
		ip("", "link", "add", "mn0", "address", p.MNMAC0, "netns", NSMN, "type", "veth", "peer", "name", "acc0", "address", p.PARMAC, "netns", NSPAR),
		ip("", "link", "add", "mn1", "address", p.MNMAC1, "netns", NSMN, "type", "veth", "peer", "name", "acc1", "address", p.NARMAC, "netns", NSNAR),
		ip("", "link", "add", "core0", "netns", NSPAR, "type", "veth", "peer", "name", "hap", "netns", NSHA),
		ip("", "link", "add", "core1", "netns", NSNAR, "type", "veth", "peer", "name", "han", "netns", NSHA),
		Cmd{NS: NSMN, Args: []string{"/sbin/sysctl", "-q", "-w", "net.ipv6.ip_nonlocal_bind=1"}},
	)
	for _, ns := range []string{NSPAR, NSNAR, NSHA} {
		c = append(c, Cmd{NS: ns, Args: []string{"/sbin/sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1"}})
	}
	c = append(c,
		ip(NSPAR, "link", "set", "acc0", "up"), ip(NSPAR, "link", "set", "core0", "up"),
		ip(NSNAR, "link", "set", "acc1", "up"), ip(NSNAR, "link", "set", "core1", "up"),
		ip(NSHA, "link", "set", "hap", "up"), ip(NSHA, "link", "set", "han", "up"),
		ip(NSPAR, "addr", "add", pl(p.PAR, p.PARNet), "dev", "acc0", "nodad"),
		ip(NSNAR, "addr", "add", pl(p.NAR, p.NARNet), "dev", "acc1", "nodad"),
		ip(NSPAR, "addr", "add", pl(p.PARCore, p.PARCoreNet), "dev", "core0", "nodad"),
		ip(NSNAR, "addr", "add", pl(p.NARCore, p.NARCoreNet), "dev", "core1", "nodad"),
		ip(NSHA, "addr", "add", pl(p.HACoreP, p.PARCoreNet), "dev", "hap", "nodad"),
		ip(NSHA, "addr", "add", pl(p.HACoreN, p.NARCoreNet), "dev", "han", "nodad"),
		ip(NSHA, "addr", "add", pl(p.HA, p.HANet), "dev", "lo", "nodad"),
		ip(NSPAR, "route", "add", "default", "via", s(p.HACoreP), "dev", "core0"),
		ip(NSNAR, "route", "add", "default", "via", s(p.HACoreN), "dev", "core1"),
		ip(NSHA, "route", "add", p.PARNet.String(), "via", s(p.PARCore), "dev", "hap"),
		ip(NSHA, "route", "add", p.NARNet.String(), "via", s(p.NARCore), "dev", "han"),
		ip(NSPAR, "neigh", "add", s(p.PCoA), "lladdr", p.MNMAC0, "dev", "acc0", "nud", "permanent"),
		ip(NSNAR, "neigh", "add", s(p.NCoA), "lladdr", p.MNMAC1, "dev", "acc1", "nud", "permanent"),
		ip(NSMN, "link", "set", "mn0", "up"),
		ip(NSMN, "addr", "add", pl(p.PCoA, p.PARNet), "dev", "mn0", "nodad"),
		ip(NSMN, "neigh", "add", s(p.PAR), "lladdr", p.PARMAC, "dev", "mn0", "nud", "permanent"),
		ip(NSMN, "route", "add", "default", "via", s(p.PAR), "dev", "mn0"),
	)
	if p.AccessDelay != "" || p.AccessLoss != "" {
		netem := []string{"qdisc", "add", "dev", "DEV", "root", "netem"}
		if p.AccessDelay != "" {
			netem = append(netem, "delay", p.AccessDelay)
		}
		if p.AccessLoss != "" {
			netem = append(netem, "loss", p.AccessLoss)
		}
		for _, d := range [][2]string{{NSMN, "mn0"}, {NSMN, "mn1"}, {NSPAR, "acc0"}, {NSNAR, "acc1"}} {
			args := append([]string{TC}, netem...)
			args[4] = d[1]
			c = append(c, Cmd{NS: d[0], Args: args})
		}
	}
	return c
}

// Handover moves the MN from the pAR's link to the nAR's and gives it the
// nCoA (the MN's SPD is not touched: that is the scenario's business).
func (p Plan) Handover() []Cmd {
	return []Cmd{
		ip(NSMN, "link", "set", "mn0", "down"),
		ip(NSMN, "addr", "flush", "dev", "mn0", "scope", "global"),
		ip(NSMN, "link", "set", "mn1", "up"),
		ip(NSMN, "addr", "add", fmt.Sprintf("%s/%d", p.NCoA, p.NARNet.Bits()), "dev", "mn1", "nodad"),
		ip(NSMN, "neigh", "replace", p.NAR.String(), "lladdr", p.NARMAC, "dev", "mn1", "nud", "permanent"),
		ip(NSMN, "route", "replace", "default", "via", p.NAR.String(), "dev", "mn1"),
	}
}

// Teardown deletes the namespaces (and with them every link).
func (p Plan) Teardown() []Cmd {
	var c []Cmd
	for _, ns := range []string{NSMN, NSPAR, NSNAR, NSHA} {
		c = append(c, ip("", "netns", "del", ns))
	}
	return c
}
