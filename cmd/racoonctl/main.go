// Command racoonctl controls ikectx's racoon through its admin socket, as
// ipsec-tools' racoonctl(8) does; see package racoon/admin/ctl.
package main

import (
	"os"

	"github.com/ikectx/ikectx/racoon/admin/ctl"
)

func main() {
	os.Exit(ctl.Main(os.Args[1:], nil))
}
