package ipsecmod

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/ikectx/ikectx/pfkey"
)

// Getter is a kernel's single-SA lookup (SADB_GET); *pfkey.Conn has it.
type Getter interface {
	Get(ctx context.Context, st pfkey.SAType, src, dst netip.Addr, spi uint32) (*pfkey.SAEntry, error)
}

// sadReader answers, for the SAs of one context, "which SA already in the
// nAR's SAD collides with this one". By default it reads the whole SAD
// once (SADB_DUMP). When the kernel is Linux's and offers SADB_GET and the
// rule includes the destination, it asks the kernel for each transferred
// SA instead: Linux's GET finds an SA by (destination, SPI, protocol), the
// very lookup of rule spi-dst (and, with the source compared here, of
// spi-dst-src), so the cost follows the context's size, not the SAD's (a
// nAR with a thousand SAs dumped its whole SAD, keys included, at every
// handover; measured in testbed/stress). FreeBSD's GET also requires the
// source to match, so it cannot serve as a lookup by destination and SPI:
// there, and under rule spi, the dump stays.
type sadReader struct {
	m    *Module
	get  Getter
	have []*pfkey.SAEntry
	got  []*pfkey.SAEntry
}

func (m *Module) readSAD(ctx context.Context) (*sadReader, error) {
	r := &sadReader{m: m}
	if g, ok := m.cfg.Kernel.(Getter); ok && m.cfg.Rule != RuleSPI && m.dialect() == pfkey.Linux {
		r.get = g
		return r, nil
	}
	have, err := m.cfg.Kernel.SAs(ctx, pfkey.SATypeUnspec)
	if err != nil {
		return nil, err
	}
	r.have = have
	return r, nil
}

// collision returns the SA the rule cannot tell apart from cand, or nil.
// A nil reader finds nothing.
func (r *sadReader) collision(ctx context.Context, cand *pfkey.SAEntry) (*pfkey.SAEntry, error) {
	if r == nil {
		return nil, nil
	}
	if r.get == nil {
		return findCollision(r.m.cfg.Rule, r.have, cand), nil
	}
	h, err := r.get.Get(ctx, cand.Type, cand.Src, cand.Dst, cand.SPI)
	if isNotExistK(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("SADB_GET %v: %w", cand, err)
	}
	r.got = append(r.got, h)
	if r.m.cfg.Rule.Collides(h, cand) {
		return h, nil
	}
	return nil, nil
}

// close wipes the keys read.
func (r *sadReader) close() {
	if r == nil {
		return
	}
	for _, h := range append(r.have, r.got...) {
		h.Wipe()
	}
}
