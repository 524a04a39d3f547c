package setkey

import (
	"bufio"
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// ipProtocols is the IANA protocol-number registry for the names setkey users
// write (as getprotobyname(3) would find them in /etc/protocols), plus the two
// names setkey adds itself: icmp6 and ip4.
var ipProtocols = map[string]uint8{
	"ip": 0, "hopopt": 0, "icmp": 1, "igmp": 2, "ggp": 3, "ipencap": 4, "ip4": 4, "ip-encap": 4,
	"st": 5, "tcp": 6, "egp": 8, "igp": 9, "pup": 12, "udp": 17, "hmp": 20, "xns-idp": 22,
	"rdp": 27, "iso-tp4": 29, "dccp": 33, "xtp": 36, "ddp": 37, "idpr-cmtp": 38, "ipv6": 41,
	"ipv6-route": 43, "ipv6-frag": 44, "idrp": 45, "rsvp": 46, "gre": 47, "esp": 50,
	"ipv6-crypt": 50, "ah": 51, "ipv6-auth": 51, "skip": 57, "ipv6-icmp": 58, "icmp6": 58,
	"icmpv6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "rspf": 73, "vmtp": 81, "eigrp": 88,
	"ospf": 89, "ospfigp": 89, "ax.25": 93, "ipip": 94, "etherip": 97, "encap": 98, "pim": 103,
	"ipcomp": 108, "ipcomp-ipv6": 108, "vrrp": 112, "carp": 112, "l2tp": 115, "isis": 124,
	"sctp": 132, "fc": 133, "mobility-header": 135, "mh": 135, "ipv6-mh": 135, "udplite": 136,
	"mpls-in-ip": 137, "manet": 138, "hip": 139, "shim6": 140, "wesp": 141, "rohc": 142,
	"ethernet": 143, "pfsync": 240,
}

// protoNames gives the name printed by dumps for a protocol number.
var protoNames = map[uint8]string{
	0: "ip", 1: "icmp", 2: "igmp", 4: "ipencap", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre",
	50: "esp", 51: "ah", 58: "icmp6", 89: "ospf", 94: "ipip", 103: "pim", 108: "ipcomp",
	112: "vrrp", 115: "l2tp", 132: "sctp", 135: "mh", 136: "udplite", ULProtoAny: "any",
}

// ProtoName returns the name of an upper-layer protocol number as dumps print it.
func ProtoName(p uint8) string {
	if s, ok := protoNames[p]; ok {
		return s
	}
	return strconv.Itoa(int(p))
}

// lookupProtocol resolves an upper-layer protocol name.
func lookupProtocol(name string) (uint8, bool) {
	if p, ok := ipProtocols[strings.ToLower(name)]; ok {
		return p, true
	}
	return protocolsFile("/etc/protocols", name)
}

// protocolsFile looks a name up in a protocols(5) file (name number aliases...).
func protocolsFile(path, name string) (uint8, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		n, err := strconv.Atoi(fs[1])
		if err != nil || n < 0 || n > 255 {
			continue
		}
		for i, f := range fs {
			if i == 1 {
				continue
			}
			if f == name {
				return uint8(n), true
			}
		}
	}
	return 0, false
}

// wellKnownPorts backs service names up when /etc/services is missing (the
// kernel lab has none).
var wellKnownPorts = map[string]uint16{
	"ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "http": 80,
	"www": 80, "kerberos": 88, "pop3": 110, "sunrpc": 111, "ntp": 123, "imap": 143, "imap2": 143,
	"snmp": 161, "bgp": 179, "ldap": 389, "https": 443, "isakmp": 500, "syslog": 514,
	"submission": 587, "ldaps": 636, "imaps": 993, "pop3s": 995, "l2tp": 1701, "radius": 1812,
	"nfs": 2049, "ipsec-nat-t": 4500, "sip": 5060, "cxtp": 5091,
}

// lookupService resolves a service name to a port: /etc/services first, then
// the built-in table.
func lookupService(name string) (uint16, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, nw := range []string{"udp", "tcp"} {
		if p, err := net.DefaultResolver.LookupPort(ctx, nw, name); err == nil && p > 0 && p < 65536 {
			return uint16(p), true
		}
	}
	p, ok := wellKnownPorts[strings.ToLower(name)]
	return p, ok
}
