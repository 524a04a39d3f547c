package stress

import (
	"fmt"
	"net/netip"

	"github.com/ikectx/ikectx/ikev2"
	"github.com/ikectx/ikectx/ipsecmod"
	"github.com/ikectx/ikectx/pfkey"
)

// Memory is the host backend: the nAR's and the MNs' SADs are memory
// SADs (SAD) obeying the lookup rule; no kernel is touched. Traffic is
// checked as the SADs would carry it: the SA an MN sends with is the one
// the nAR's lookup finds for the packet (same keys), and the other way.
type Memory struct {
	NARSAD, MNSAD *SAD
}

// NewMemory returns the memory backend; spiRange > 0 narrows the nAR's
// GETSPI to [0x100, 0x100+spiRange).
func NewMemory(rule ipsecmod.LookupRule, seed uint64, spiRange uint32) *Memory {
	m := &Memory{NARSAD: NewSAD(rule, seed^0x4a4), MNSAD: NewSAD(ipsecmod.RuleSPIDstSrc, seed^0x313)}
	if spiRange > 0 {
		m.NARSAD.Min, m.NARSAD.Max = 0x100, 0x100+spiRange-1
	}
	return m
}

func (m *Memory) Name() string                         { return "memory" }
func (m *Memory) Setup(*Plan) error                    { return nil }
func (m *Memory) NAR() (ipsecmod.Kernel, ikev2.Kernel) { return m.NARSAD, m.NARSAD.IKE() }
func (m *Memory) MN() ikev2.Kernel                     { return m.MNSAD.IKE() }
func (m *Memory) Close() error                         { return nil }
func (m *Memory) Probe(rule ipsecmod.LookupRule, spi uint32, src, dst netip.Addr) ([]*pfkey.SAEntry, error) {
	return m.NARSAD.Lookup(spi, src, dst), nil
}

// Traffic checks each child both ways: the MN's outbound SA (MN SAD) and
// the SA the nAR's lookup finds for its SPI carry the same keys, and the
// nAR's outbound SA and the SA the MN's lookup finds.
func (m *Memory) Traffic(p *Plan, mns []MNSAs) ([]TrafficResult, error) {
	var out []TrafficResult
	for _, mn := range mns {
		res := TrafficResult{Index: mn.Index, OK: true}
		fail := func(format string, args ...any) {
			if res.OK {
				res.OK, res.Err = false, fmt.Sprintf(format, args...)
			}
		}
		for _, c := range mn.Children {
			// MN -> nAR.
			if hs := m.NARSAD.Lookup(c.SPIOut, mn.NCoA, p.NAR); len(hs) != 1 || !sameKeys(hs[0], c.EncOut, c.IntegOut) {
				fail("MN->nAR spi 0x%08x: the nAR's lookup finds %d SA(s) or other keys", c.SPIOut, len(hs))
			}
			if hs := m.MNSAD.Lookup(c.SPIOut, mn.NCoA, p.NAR); len(hs) != 1 || !sameKeys(hs[0], c.EncOut, c.IntegOut) {
				fail("MN->nAR spi 0x%08x: the MN has no such outbound SA", c.SPIOut)
			}
			// nAR -> MN.
			if hs := m.MNSAD.Lookup(c.SPIIn, p.NAR, mn.NCoA); len(hs) != 1 || !sameKeys(hs[0], c.EncIn, c.IntegIn) {
				fail("nAR->MN spi 0x%08x: the MN's lookup finds %d SA(s) or other keys", c.SPIIn, len(hs))
			}
			if hs := m.NARSAD.Lookup(c.SPIIn, p.NAR, mn.NCoA); len(hs) != 1 || !sameKeys(hs[0], c.EncIn, c.IntegIn) {
				fail("nAR->MN spi 0x%08x: the nAR has no such outbound SA", c.SPIIn)
			}
		}
		out = append(out, res)
	}
	return out, nil
}
