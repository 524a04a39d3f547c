//go:build !linux && !freebsd

package daemon

import (
	"errors"

	"github.com/ikectx/ikectx/ikev2"
)

func openKernel(func(string, ...any)) (ikev2.Kernel, error) {
	return nil, errors.New("PF_KEY is available on Linux and FreeBSD only")
}
