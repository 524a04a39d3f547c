package ike

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"github.com/ikectx/ikectx/racoon/isakmp"
)

// VendorRFC3947 is MD5("RFC 3947"), the NAT traversal vendor ID.
var VendorRFC3947 = []byte{0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f}

// VendorDPD is the RFC 3706 dead peer detection vendor ID racoon sends.
var VendorDPD = []byte{0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00}

func (p *Phase1) natdHash(ap interface {
	Addr() netip.Addr
	Port() uint16
}) []byte {
	a := ap.Addr().Unmap()
	return p.prf.Hash(p.ICookie[:], p.RCookie[:], a.AsSlice(), binary.BigEndian.AppendUint16(nil, ap.Port()))
}

// natdPayloads are our NAT-D payloads: the peer's address as we send to it,
// then ours.
func (p *Phase1) natdPayloads() []isakmp.Payload {
	return []isakmp.Payload{
		&isakmp.Raw{Type: isakmp.PayloadNATD, Data: p.natdHash(p.Remote)},
		&isakmp.Raw{Type: isakmp.PayloadNATD, Data: p.natdHash(p.Local)},
	}
}

// natd answers the peer's NAT-D payloads with ours when both sides speak
// RFC 3947, and checks the peer's.
func (p *Phase1) natd(ps payloads) []isakmp.Payload {
	if !p.Cfg.NATT || !p.NATTPeer {
		return nil
	}
	p.checkNATD(ps)
	return p.natdPayloads()
}

// checkNATD compares the peer's NAT-D payloads with the addresses we see.
func (p *Phase1) checkNATD(ps payloads) {
	if !p.Cfg.NATT || !p.NATTPeer {
		return
	}
	var hs [][]byte
	for _, x := range ps {
		if r, ok := x.(*isakmp.Raw); ok && r.Type == isakmp.PayloadNATD {
			hs = append(hs, r.Data)
		}
	}
	if len(hs) < 2 {
		return
	}
	// the first is the hash of our address as the peer sent to it
	if !bytes.Equal(hs[0], p.natdHash(p.Local)) {
		p.NATDetected = true
	}
	peerOK := false
	for _, h := range hs[1:] {
		if bytes.Equal(h, p.natdHash(p.Remote)) {
			peerOK = true
		}
	}
	if !peerOK {
		p.NATDetected = true
	}
}
