package ike

import (
	"crypto/hmac"
	"fmt"

	"github.com/ikectx/ikectx/racoon/isakmp"
)

// Informational builds an encrypted informational exchange (HASH(1) and
// the given notification or delete payloads) with a fresh message ID.
func (p *Phase1) Informational(ps ...isakmp.Payload) ([]byte, error) {
	if !p.Established() {
		return nil, fmt.Errorf("ike: informational before phase 1 is established")
	}
	mid := p.nextMsgID()
	body, _, err := isakmp.AppendPayloads(nil, ps)
	if err != nil {
		return nil, err
	}
	h := InfoHash(p.prf, p.Keys.A, mid, body)
	out, _, err := p.encrypt(p.header(isakmp.ExchangeInformational, 0, mid), Phase2IV(p.prf, p.cipher, p.iv, mid), append([]isakmp.Payload{&isakmp.Hash{Data: h}}, ps...)...)
	return out, err
}

// InitialContactNotify is the INITIAL-CONTACT notification as racoon sends
// it: protocol ISAKMP with the cookie pair as SPI.
func (p *Phase1) InitialContactNotify() *isakmp.Notification {
	spi := append(append([]byte(nil), p.ICookie[:]...), p.RCookie[:]...)
	return &isakmp.Notification{DOI: isakmp.DOIIPsec, ProtocolID: isakmp.ProtoISAKMP, Type: isakmp.InitialContact, SPI: spi}
}

// DeleteSelf is the Delete payload for this ISAKMP SA.
func (p *Phase1) DeleteSelf() *isakmp.Delete {
	spi := append(append([]byte(nil), p.ICookie[:]...), p.RCookie[:]...)
	return &isakmp.Delete{DOI: isakmp.DOIIPsec, ProtocolID: isakmp.ProtoISAKMP, SPISize: 16, SPIs: [][]byte{spi}}
}

// HandleInformational decrypts and authenticates an informational message
// of this SA and returns its payloads after the HASH.
func (p *Phase1) HandleInformational(raw []byte) ([]isakmp.Payload, error) {
	m, err := isakmp.Parse(raw)
	if err != nil {
		return nil, err
	}
	if m.Header.ExchangeType != isakmp.ExchangeInformational {
		return nil, fmt.Errorf("not an informational message")
	}
	if !m.Header.Encrypted() {
		// before the keys exist an informational is plain and unauthenticated
		if p.Keys != nil {
			return nil, fmt.Errorf("unencrypted informational after the keys exist")
		}
		return m.Payloads, nil
	}
	if p.Keys == nil || p.iv == nil {
		return nil, fmt.Errorf("encrypted informational before the keys exist")
	}
	mid := m.Header.MessageID
	iv := p.phase2IV(mid)
	ps, _, err := p.decrypt(m, iv)
	if err != nil {
		return nil, err
	}
	if len(ps) < 2 || ps[0].PayloadType() != isakmp.PayloadHash {
		return nil, fmt.Errorf("informational without HASH(1) first")
	}
	rest, _, err := isakmp.AppendPayloads(nil, ps[1:])
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(ps[0].(*isakmp.Hash).Data, InfoHash(p.prf, p.Keys.A, mid, rest)) {
		return nil, fmt.Errorf("informational HASH(1) mismatch")
	}
	return ps[1:], nil
}
