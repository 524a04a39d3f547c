//go:build !linux

package strongswan

import (
	"context"
	"errors"
	"io"
	"runtime"
	"time"

	"github.com/ikectx/ikectx/testbed/lab"
)

var errNotLinux = errors.New("strongswan: charon with kernel-netlink and the kernel lab need Linux (this is " + runtime.GOOS + ")")

// LabFiles fails: the lab and Debian's strongSwan are Linux only.
func LabFiles(ctx context.Context) ([]lab.File, error) { return nil, errNotLinux }

// Available fails on this system.
func Available() error { return errNotLinux }

// Start fails on this system.
func Start(ctx context.Context, ns, dir, swanctlConf string, log io.Writer) (*Charon, error) {
	return nil, errNotLinux
}

// Swanctl fails on this system.
func (c *Charon) Swanctl(args ...string) (string, error) { return "", errNotLinux }

// Initiate fails on this system.
func (c *Charon) Initiate(ike, child string, timeout time.Duration) (time.Duration, error) {
	return 0, errNotLinux
}

// Stop does nothing on this system.
func (c *Charon) Stop() {}
