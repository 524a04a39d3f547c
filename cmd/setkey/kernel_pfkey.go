//go:build linux || freebsd

package main

import "github.com/ikectx/ikectx/pfkey"

func openKernel() (*pfkey.Conn, error) { return pfkey.Open() }
