//go:build !linux && !freebsd

package daemon

import "errors"

func openKernel(logf func(string, ...any)) (Kernel, error) {
	return nil, errors.New("racoon: PF_KEY is available on Linux and FreeBSD only; use --no-kernel")
}
