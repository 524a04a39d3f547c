// Command ipsec-cxtpd is the IPsec-CXTP module (paper Figure 3): it serves
// cxtpd's shared-memory segment, capturing an MN's IPsec/IKE context on the
// pAR and installing and activating it on the nAR; on the MN, its
// mn-rewrite command moves the MN's own SAD/SPD. See ipsecmod/daemon.
//
//	ipsec-cxtpd -c /etc/ipsec-cxtpd.toml
//	ipsec-cxtpd -t -c FILE
//	ipsec-cxtpd status -c FILE
//	ipsec-cxtpd mn-rewrite -old-coa A -new-coa B -old-ar C -new-ar D
package main

import (
	"os"

	"github.com/ikectx/ikectx/ipsecmod/daemon"
)

func main() { os.Exit(daemon.Main(os.Args[1:], os.Stdout, os.Stderr)) }
