package topo

import (
	"fmt"
	"net/netip"
	"strings"
)

// The IKEv2 rows (issue 6 section 4): iked (or strongSwan's charon) on the
// MN and the ARs instead of racoon, and for the SPI collision scenario a
// second MN (MN2) on the nAR's access link.
//
//	MN2 m2 ---------------------------------- acc2 nAR
//	    (2001:db8:2::200)   a host route on the nAR (2001:db8:2::200/128 dev acc2)
//
// MN2 is in the nAR's prefix; the nAR reaches it by a host route through
// acc2 and MN2 reaches the nAR's access address 2001:db8:2::1 on-link
// (permanent neighbour entries, as for the MN).
//
// Traffic selectors are host-to-host, the MN's care-of address to the
// HA, as the racoon SPD's (MNSetkey). After a context transfer the nAR's
// MOBIKE moves the MN's SAs to the nCoA, and a selector that was the old
// address follows it (what strongSwan does with "dynamic" selectors).
//
// Proposals: IKE SA aes128-sha256-ecp256; ESP aes128-sha1, because
// Linux PF_KEY gives HMAC-SHA2-256 a 96-bit ICV (iked installs through
// PF_KEY; ikev2/README.md) and cannot install AES-GCM.

// NSMN2 is the collision scenario's other mobile node.
const NSMN2 = "mn2"

// IKEv2 identities (every AR is ar.example: the MN's PAD has one entry for
// the access network's gateways).
const (
	IDMN  = "mn@example"
	IDMN2 = "mn2@example"
	IDAR  = "ar.example"
)

// IKEv2 proposals of the testbed.
const (
	IKEProposal = "aes128-sha256-ecp256"
	ESPProposal = "aes128-sha1"
)

// MAC addresses of MN2's link.
const (
	MN2MAC     = "02:00:00:00:03:64"
	NARMN2MAC  = "02:00:00:00:03:01"
	mn2Dev     = "m2"
	narMN2Dev  = "acc2"
	mn2HostOff = 0x200
)

// MN2 is MN2's address in the nAR's prefix (::200).
func (p Plan) MN2() netip.Addr {
	b := p.NARNet.Addr().As16()
	b[14], b[15] = mn2HostOff>>8, mn2HostOff&0xff
	return netip.AddrFrom16(b)
}

// MN2Build adds MN2's namespace and link to a built topology.
func (p Plan) MN2Build() []Cmd {
	mn2, nar := p.MN2().String(), p.NAR.String()
	return []Cmd{
		ip("", "netns", "add", NSMN2), ip(NSMN2, "link", "set", "lo", "up"),
		ip("", "link", "add", mn2Dev, "address", MN2MAC, "netns", NSMN2, "type", "veth", "peer", "name", narMN2Dev, "address", NARMN2MAC, "netns", NSNAR),
		ip(NSNAR, "link", "set", narMN2Dev, "up"),
		ip(NSNAR, "route", "add", mn2+"/128", "dev", narMN2Dev),
		ip(NSNAR, "neigh", "add", mn2, "lladdr", MN2MAC, "dev", narMN2Dev, "nud", "permanent"),
		ip(NSMN2, "link", "set", mn2Dev, "up"),
		ip(NSMN2, "addr", "add", fmt.Sprintf("%s/%d", mn2, p.NARNet.Bits()), "dev", mn2Dev, "nodad"),
		ip(NSMN2, "neigh", "add", nar, "lladdr", NARMN2MAC, "dev", mn2Dev, "nud", "permanent"),
		ip(NSMN2, "route", "add", "default", "via", nar, "dev", mn2Dev),
	}
}

// MN2Teardown deletes MN2's namespace (its link goes with it).
func (p Plan) MN2Teardown() []Cmd { return []Cmd{ip("", "netns", "del", NSMN2)} }

// IKEv2Conn is one connection of a testbed station's IKEv2 daemon.
type IKEv2Conn struct {
	Name              string
	Local, Remote     string // an address or "%any"
	LocalID, RemoteID string
	LocalTS, RemoteTS []string
}

// IkedConf is iked's configuration for a station: its control socket, the
// PAD (every peer identity with the testbed's PSK) and its connections
// (MOBIKE and UPDATE_SPI on, the testbed's proposals).
func (p Plan) IkedConf(socket string, peers []string, conns []IKEv2Conn) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# iked of a testbed station (testbed/topo)\n[global]\nsocket = %q\nretransmit_base = \"1s\"\n", socket)
	for _, id := range peers {
		fmt.Fprintf(&b, "\n[[pad]]\nid = %q\npsk = %q\n", id, p.PSK)
	}
	list := func(ss []string) string {
		q := make([]string, len(ss))
		for i, s := range ss {
			q[i] = fmt.Sprintf("%q", s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	for _, c := range conns {
		fmt.Fprintf(&b, `
[[connection]]
name = %q
local_addr = %q
remote_addr = %q
local_id = %q
remote_id = %q
ike_proposals = [%q]
esp_proposals = [%q]
local_ts = %s
remote_ts = %s
mobike = true
update_spi = true
`, c.Name, c.Local, c.Remote, c.LocalID, c.RemoteID, IKEProposal, ESPProposal, list(c.LocalTS), list(c.RemoteTS))
	}
	return b.String()
}

// MNIKEv2Conns are the MN's connections: "par" (pCoA -> pAR) and "nar"
// (nCoA -> nAR), each for its care-of address to the HA, and "ar", which
// answers an AR that initiates from any address (the nAR's Algorithm 1
// fallback after a context transfer: a complete IKEv2 exchange started by
// the nAR).
func (p Plan) MNIKEv2Conns() []IKEv2Conn {
	ha := []string{p.HA.String()}
	return []IKEv2Conn{
		{Name: "par", Local: p.PCoA.String(), Remote: p.PAR.String(), LocalID: IDMN, RemoteID: IDAR, LocalTS: []string{p.PCoA.String()}, RemoteTS: ha},
		{Name: "nar", Local: p.NCoA.String(), Remote: p.NAR.String(), LocalID: IDMN, RemoteID: IDAR, LocalTS: []string{p.NCoA.String()}, RemoteTS: ha},
		{Name: "ar", Local: "%any", Remote: "%any", LocalID: IDMN, RemoteID: IDAR, LocalTS: []string{p.PARNet.String(), p.NARNet.String()}, RemoteTS: ha},
	}
}

// ARIKEv2Conn is an AR's connection "name" for a mobile node with
// identity id at coa: the HA behind the AR, the MN's address.
func (p Plan) ARIKEv2Conn(name, id string, ar, coa netip.Addr) IKEv2Conn {
	return IKEv2Conn{Name: name, Local: ar.String(), Remote: coa.String(), LocalID: IDAR, RemoteID: id,
		LocalTS: []string{p.HA.String()}, RemoteTS: []string{coa.String()}}
}

// MN2IKEv2Conn is MN2's connection to the nAR.
func (p Plan) MN2IKEv2Conn() IKEv2Conn {
	return IKEv2Conn{Name: "nar", Local: p.MN2().String(), Remote: p.NAR.String(), LocalID: IDMN2, RemoteID: IDAR,
		LocalTS: []string{p.MN2().String()}, RemoteTS: []string{p.HA.String()}}
}

// IPsecCxtpdIked is ipsec-cxtpd's configuration on an AR whose IKE daemon
// is iked (control socket ikedSock): the IKEv2 FPT instead of the IKEv1
// one, Algorithm 1 with one round trip expected and the defaults'
// MAX_ROUND_TRIPS (3) and TIMER (5 s).
func (p Plan) IPsecCxtpdIked(dir, shmName, ikedSock string, par bool) string {
	return p.ipsecCxtpd(dir, shmName, fmt.Sprintf("[iked]\nsocket = %q\nmax_round_trips = 3\ntimer = \"5s\"\n", ikedSock), par)
}

// SwanctlConf is strongSwan's swanctl.conf for a station whose identity
// is self: one IKEv2 PSK connection per conn with its child "net"
// (tunnel mode), the testbed's proposals (ESP without PFS, as iked's),
// MOBIKE off (the row measures a full exchange after the handover, not a
// roam), no DPD or rekeying; the children named in trap have start_action
// trap (charon installs their policies at once and negotiates on the
// kernel's ACQUIRE, as racoon in the IKEv1 rows), the others none; a
// secret for self with each peer identity.
func (p Plan) SwanctlConf(self string, peers []string, conns []IKEv2Conn, trap map[string]bool) string {
	var b strings.Builder
	b.WriteString("# swanctl.conf of a testbed station (testbed/topo)\nconnections {\n")
	for _, c := range conns {
		start := "none"
		if trap[c.Name] {
			start = "trap"
		}
		b.WriteString(SwanctlConn{Name: c.Name, Version: 2, Local: c.Local, Remote: c.Remote, Proposals: IKEProposal,
			LocalID: c.LocalID, RemoteID: c.RemoteID, LocalTS: strings.Join(c.LocalTS, ","), RemoteTS: strings.Join(c.RemoteTS, ","),
			ESP: ESPProposal, ChildRekeyOff: true, StartAction: start}.Section())
	}
	b.WriteString("}\nsecrets {\n")
	for i, peer := range peers {
		fmt.Fprintf(&b, "\tike-%d {\n\t\tid-1 = %s\n\t\tid-2 = %s\n\t\tsecret = %q\n\t}\n", i+1, self, peer, p.PSK)
	}
	b.WriteString("}\n")
	return b.String()
}

// SwanctlConn is one PSK connection of a swanctl.conf with its child
// "net" (tunnel mode): MOBIKE, DPD and IKE rekeying off.
type SwanctlConn struct {
	Name              string
	Version           int // 1 IKEv1, 2 IKEv2
	Local, Remote     string
	Proposals         string // IKE
	LocalID, RemoteID string
	LocalTS, RemoteTS string
	ESP               string // esp_proposals
	ChildRekeyOff     bool   // rekey_time = 0 in the child too
	StartAction       string // the child's start_action
}

// Section is c's section of a connections block, indented one tab.
func (c SwanctlConn) Section() string {
	childRekey := ""
	if c.ChildRekeyOff {
		childRekey = "\t\t\t\trekey_time = 0\n"
	}
	return fmt.Sprintf(`	%s {
		version = %d
		mobike = no
		local_addrs = %s
		remote_addrs = %s
		proposals = %s
		rekey_time = 0
		dpd_delay = 0
		local {
			auth = psk
			id = %s
		}
		remote {
			auth = psk
			id = %s
		}
		children {
			net {
				mode = tunnel
				local_ts = %s
				remote_ts = %s
				esp_proposals = %s
%s				start_action = %s
			}
		}
	}
`, c.Name, c.Version, c.Local, c.Remote, c.Proposals, c.LocalID, c.RemoteID, c.LocalTS, c.RemoteTS, c.ESP, childRekey, c.StartAction)
}
