//go:build !linux && !freebsd

package daemon

import "syscall"

func bypassControl(string, string, syscall.RawConn) error { return nil }

func encapControl(string, string, syscall.RawConn) error { return nil }
