// Command racoon is ikectx's racoon-compatible IKEv1 daemon. For now it
// checks configurations (racoon -t -f FILE); the daemon itself is not
// implemented yet.
package main

import (
	"os"

	"github.com/ikectx/ikectx/racoon/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr))
}
