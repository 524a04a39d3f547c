package topo

import (
	"fmt"
	"net/netip"
)

// CXTP settings of the testbed (none is registered: examples/ipsec-cxtpd).
const (
	FPTSA    = 0x8001
	FPTSP    = 0x8002
	FPTIKEv1 = 0x8003
	FPTIKEv2 = 0x8004
	// TokenKey is the CXTP token key shared by the MN and the pAR.
	TokenKey = "000102030405060708090a0b0c0d0e0f10111213"
	// CXTPPort is the AR-AR port (RFC 4067), SCTP.
	CXTPPort = 5091
)

// ARARSetkey protects the AR-AR channel (RFC 4067: MUST) with static ESP
// transport SAs between the ARs' core addresses; self and peer are this
// AR's and the other's, out and in their SPIs.
func (p Plan) ARARSetkey(self, peer netip.Addr, selfIsPAR bool) string {
	a, b := p.PARCore, p.NARCore
	return fmt.Sprintf(`# AR-AR channel (CXTP over SCTP 5091) in ESP transport mode, static keys
add %[1]s %[2]s esp 0x5091a001 -m transport -E aes-cbc 0x00112233445566778899aabbccddeeff -A hmac-sha1 0x0102030405060708090a0b0c0d0e0f1011121314;
add %[2]s %[1]s esp 0x5091b001 -m transport -E aes-cbc 0xffeeddccbbaa99887766554433221100 -A hmac-sha1 0x14131211100f0e0d0c0b0a090807060504030201;
spdadd %[3]s %[4]s any -P out ipsec esp/transport//require;
spdadd %[4]s %[3]s any -P in ipsec esp/transport//require;
`, a, b, self, peer)
}

// CxtpdAR is cxtpd's configuration on an AR (role ar): dir holds its
// control socket and log; shmName is its segment (POSIX shared memory is
// not per network namespace: one name per station).
func (p Plan) CxtpdAR(dir, shmName string, par bool) string {
	self, access, ifc, peer, peerAccess := p.PARCore, p.PAR, "acc0", p.NARCore, p.NAR
	if !par {
		self, access, ifc, peer, peerAccess = p.NARCore, p.NAR, "acc1", p.PARCore, p.PAR
	}
	tt := p.TransferTime
	if tt == "" {
		tt = "2s"
	}
	mn := ""
	if par {
		mn = fmt.Sprintf("[[mn]]\naddress = %q\nkey = %q\n", p.PCoA.String(), TokenKey)
	}
	return fmt.Sprintf(`role = "ar"
address = %[1]q
access_address = %[2]q
interface = %[3]q
port = %[9]d
control = "%[4]s/cxtpd.sock"
[shm]
name = %[5]q
[timers]
context_lifetime = "30s"
max_transfer_time = %[14]q               # capture under emulation takes longer than 200 ms
module_timeout = "5s"
after_ack_delay = "100ms"              # the phase-1 import (after_ack) and the CTDR wait until the MN's first packets are through
[security]
allow_plaintext = false
[log]
level = "info"                         # debug lines cost CPU time during the measured handover
file = "%[4]s/cxtpd.log"
[[peer]]
address = %[6]q
access_addresses = [%[7]q]
transport = "sctp"
protected = true                   # ESP transport between the ARs (ARARSetkey)
%[8]s[[module]]
name = "ipsec-cxtpd"
fpts = [%[10]d, %[11]d, %[12]d, %[13]d]
key_material = true
after_ack = [%[12]d]                # the phase-1 import follows the CTAA
`, self.String(), access.String(), ifc, dir, shmName, peer.String(), peerAccess.String(), mn, CXTPPort, FPTSA, FPTSP, FPTIKEv1, FPTIKEv2, tt)
}

// CxtpdMN is cxtpd's configuration on the MN (role mn) attached to the pAR;
// with moveIPsec it moves the MN's own SAD/SPD on a handover (IKEv1 context
// transfer; with IKEv2 iked's MOBIKE moves them).
func (p Plan) CxtpdMN(dir string, moveIPsec bool) string {
	move := ""
	if moveIPsec {
		move = "move_ipsec = true                      # the MN's SAD/SPD: prepared on handover, switched on the CTAA\n"
	}
	return fmt.Sprintf(`role = "mn"
address = %q
interface = "mn0"
control = "%[2]s/cxtpd.sock"
[timers]
max_transfer_time = "3s"               # CTAR retransmission: a reactive transfer takes 0.3-2.5 s under emulation on a loaded host
[log]
level = "info"                         # debug lines cost CPU time during the measured handover
file = "%[2]s/cxtpd.log"
[mobile]
ar = %[3]q
key = %[4]q
%[5]s`, p.PCoA.String(), dir, p.PAR.String(), TokenKey, move)
}

// IPsecCxtpd is ipsec-cxtpd's configuration on an AR: its tunnel endpoint,
// cxtpd's segment, racoon's admin socket; on the nAR the MN's prefix for
// pre-installing the SAs.
func (p Plan) IPsecCxtpd(dir, shmName, racoonSock string, par bool) string {
	return p.ipsecCxtpd(dir, shmName, fmt.Sprintf("[racoon]\nsocket = %q\n", racoonSock), par)
}

// ipsecCxtpd is ipsec-cxtpd's configuration with the IKE daemon's section
// ike ([racoon] or [iked]).
func (p Plan) ipsecCxtpd(dir, shmName, ike string, par bool) string {
	addr, extra := p.PAR, "delete_on_transfer = false\n"
	if !par {
		addr, extra = p.NAR, fmt.Sprintf("sad_lookup = \"spi-dst\"\npredict_prefix = %q\npolicy_priority = 0\nlifetime = \"60s\"\ncall_timeout = \"2s\"\n", p.NARNet.String())
	}
	return fmt.Sprintf(`address = %q
status = "%[2]s/ipsec-cxtpd.sock"
%[3]s
[shm]
name = %[4]q

[fpt]
ipsec_sa = %[6]d
ipsec_sp = %[7]d
ikev1 = %[8]d
ikev2 = %[9]d

%[5]s
[log]
level = "info"                         # debug lines cost CPU time during the measured handover
`, addr.String(), dir, extra, shmName, ike, FPTSA, FPTSP, FPTIKEv1, FPTIKEv2)
}
