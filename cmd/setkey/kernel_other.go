//go:build !linux && !freebsd

package main

import (
	"context"
	"errors"
	"iter"

	"github.com/ikectx/ikectx/pfkey"
)

// noKernel stands for the key socket on systems without one.
type noKernel struct{}

func (noKernel) Dialect() *pfkey.Dialect { return pfkey.Native }
func (noKernel) Do(context.Context, *pfkey.Message) (*pfkey.Message, error) {
	return nil, errNoPFKey
}
func (noKernel) DoMulti(context.Context, *pfkey.Message) iter.Seq2[*pfkey.Message, error] {
	return func(yield func(*pfkey.Message, error) bool) { yield(nil, errNoPFKey) }
}
func (noKernel) Close() error { return nil }

var errNoPFKey = errors.New("this system has no PF_KEY socket (use -n to check a script)")

func openKernel() (noKernel, error) { return noKernel{}, errNoPFKey }
