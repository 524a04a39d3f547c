// Command cxtpd is the CXTP module (RFC 4067) of the paper's Figure 3, in
// the access-router or mobile-node role. See cxtp/daemon.
package main

import (
	"os"

	"github.com/ikectx/ikectx/cxtp/daemon"
)

func main() {
	// protected = true is checked against the kernel's IPsec policies.
	daemon.CheckChannel = new(spdChecker).check
	os.Exit(daemon.Main(os.Args[1:], os.Stdout, os.Stderr))
}
