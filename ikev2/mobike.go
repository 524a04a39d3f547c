package ikev2

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/ikectx/ikectx/ikev2/msg"
)

// ErrUpdateSPIIgnored is returned (wrapped) when the peer answered an
// UPDATE_SPI request without acknowledging an UPDATE_SPI notification: it
// does not implement the extension (RFC 7296 makes it ignore unknown
// status notifies), so the SPI was not changed on its side.
var ErrUpdateSPIIgnored = errors.New("peer did not acknowledge UPDATE_SPI")

// mobikeTask is an INFORMATIONAL request with UPDATE_SA_ADDRESSES (RFC
// 4555 3.5; sent by the original responder in the paper's section 3.2.4)
// and/or the paper's UPDATE_SPI notifications.
type mobikeTask struct {
	local, remote netip.AddrPort
	updates       []msg.UpdateSPI
	addresses     bool
	cookie2       []byte
	oldL, oldR    netip.AddrPort
	done          func(error)
}

func (t *mobikeTask) exchange() msg.ExchangeType { return msg.INFORMATIONAL }

func (t *mobikeTask) build(m *Manager, sa *IKESA) ([]msg.Payload, error) {
	var ps []msg.Payload
	if t.addresses {
		if !sa.MOBIKE {
			return nil, errors.New("ikev2: MOBIKE was not negotiated on this IKE SA")
		}
		t.oldL, t.oldR = sa.Local, sa.Remote
		if t.local.IsValid() {
			sa.Local = t.local
		}
		if t.remote.IsValid() {
			sa.Remote = t.remote
		}
		t.cookie2 = make([]byte, 16)
		rand.Read(t.cookie2)
		ps = append(ps, &msg.Notify{NotType: msg.UPDATE_SA_ADDRESSES})
		ps = append(ps, natNotifies(sa.SPIi, sa.SPIr, sa.Local, sa.Remote)...)
		ps = append(ps, &msg.Notify{NotType: msg.NO_ADDITIONAL_ADDRESSES}, &msg.Notify{NotType: msg.COOKIE2, Data: t.cookie2})
	}
	if len(t.updates) > 0 {
		if sa.Conf.UpdateSPI == 0 {
			return nil, errors.New("ikev2: UPDATE_SPI is disabled in the configuration")
		}
		for _, u := range t.updates {
			ps = append(ps, u.Notify(sa.Conf.UpdateSPI))
		}
	}
	return ps, nil
}

func (t *mobikeTask) process(m *Manager, sa *IKESA, r *msg.Message) error {
	var err error
	if t.addresses {
		if n := r.FirstError(); n != nil {
			err = &ExchangeError{msg.INFORMATIONAL, n.NotType}
		} else if c := r.Notify(msg.COOKIE2); c == nil || !bytes.Equal(c.Data, t.cookie2) {
			err = errors.New("ikev2: UPDATE_SA_ADDRESSES response without our COOKIE2")
		}
		if err == nil {
			sa.checkNAT(r, sa.Local, sa.Remote, sa.SPIr)
			m.moved(sa, t.oldL, t.oldR)
		} else {
			sa.Local, sa.Remote = t.oldL, t.oldR
		}
	}
	var ignored []string
	for _, u := range t.updates {
		acked := false
		for _, n := range r.Notifies(sa.Conf.UpdateSPI) {
			if v, perr := msg.ParseUpdateSPI(n); perr == nil && v.Protocol == u.Protocol && bytes.Equal(v.SPI, u.SPI) && bytes.Equal(v.NewSPI, u.NewSPI) && v.Responder == u.Responder {
				acked = true
			}
		}
		if !acked {
			ignored = append(ignored, fmt.Sprintf("%v 0x%x", u.Protocol, u.SPI))
			continue
		}
		if f, aerr := m.updateSPI(sa, u, true); aerr != nil {
			err = errors.Join(err, aerr)
		} else if f != nil {
			f()
		}
	}
	if len(ignored) > 0 {
		err = errors.Join(err, fmt.Errorf("%w: %v", ErrUpdateSPIIgnored, ignored))
	}
	if t.done != nil {
		t.done(err)
	}
	if err != nil {
		m.emit(Event{Kind: "failed", SA: sa, Err: err})
	}
	return nil
}

func (t *mobikeTask) fail(m *Manager, sa *IKESA, err error) {
	if t.addresses && t.oldL.IsValid() {
		sa.Local, sa.Remote = t.oldL, t.oldR
	}
	if t.done != nil {
		t.done(err)
	}
}

// applyUpdateSPI handles a received UPDATE_SPI notify: it checks it and
// returns the acknowledgement (the same notification, echoed) and the
// change to make once the response is sent.
func (m *Manager) applyUpdateSPI(sa *IKESA, n *msg.Notify) (*msg.Notify, func(), error) {
	u, err := msg.ParseUpdateSPI(n)
	if err != nil {
		return nil, nil, err
	}
	f, err := m.updateSPI(sa, u, false)
	if err != nil {
		return nil, nil, err
	}
	return u.Notify(sa.Conf.UpdateSPI), f, nil
}

// updateSPI validates u and returns the function that applies it. sender
// is true on the side that sent the UPDATE_SPI request. The D flag says
// whose SPI changes: 0 the original initiator's, 1 the responder's.
func (m *Manager) updateSPI(sa *IKESA, u msg.UpdateSPI, sender bool) (func(), error) {
	ours := u.Responder != sa.Initiator // the SPI is this end's
	switch u.Protocol {
	case msg.ProtoIKE:
		old, nw := binary.BigEndian.Uint64(u.SPI), binary.BigEndian.Uint64(u.NewSPI)
		if nw == 0 {
			return nil, errors.New("new IKE SPI is zero")
		}
		cur := sa.SPIi
		if u.Responder {
			cur = sa.SPIr
		}
		if cur != old {
			return nil, fmt.Errorf("IKE SPI %016x is not this SA's", old)
		}
		if ours {
			if x, ok := m.sas[nw]; ok && x != sa && sa.key != nw {
				return nil, fmt.Errorf("new IKE SPI %016x is in use here", nw)
			}
		}
		return func() {
			if ours && m.sas[sa.key] == sa {
				delete(m.sas, sa.key)
			}
			if u.Responder {
				sa.SPIr = nw
			} else {
				sa.SPIi = nw
			}
			if ours {
				m.register(sa, nw)
			}
			m.emit(Event{Kind: "spi-updated", SA: sa})
		}, nil
	case msg.ProtoESP, msg.ProtoAH:
		old, nw := binary.BigEndian.Uint32(u.SPI), binary.BigEndian.Uint32(u.NewSPI)
		if nw < 0x100 {
			return nil, fmt.Errorf("new SPI 0x%x is reserved", nw)
		}
		if ours {
			c := sa.child(old)
			if c == nil {
				return nil, fmt.Errorf("no child with inbound SPI 0x%08x", old)
			}
			if !sender && m.Kernel.InUse(nw, sa.Local.Addr()) {
				return nil, fmt.Errorf("new SPI 0x%08x is in use here", nw)
			}
			return func() {
				m.Kernel.Delete(sa, c)
				c.SPIIn = nw
				if err := m.Kernel.Install(sa, c); err != nil {
					m.emit(Event{Kind: "failed", SA: sa, Child: c, Err: err})
					return
				}
				m.emit(Event{Kind: "spi-updated", SA: sa, Child: c})
			}, nil
		}
		c := sa.childByOut(old)
		if c == nil {
			return nil, fmt.Errorf("no child with outbound SPI 0x%08x", old)
		}
		return func() {
			m.Kernel.Delete(sa, c)
			c.SPIOut = nw
			if err := m.Kernel.Install(sa, c); err != nil {
				m.emit(Event{Kind: "failed", SA: sa, Child: c, Err: err})
				return
			}
			m.emit(Event{Kind: "spi-updated", SA: sa, Child: c})
		}, nil
	}
	return nil, fmt.Errorf("protocol %v", u.Protocol)
}
