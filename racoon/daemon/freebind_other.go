//go:build !linux && !freebsd

package daemon

import "syscall"

func freebind(network, address string, c syscall.RawConn) error { return nil }
