package ikev2

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/ikectx/ikectx/ikev2/crypto"
	"github.com/ikectx/ikectx/ikev2/msg"
)

func (m *Manager) respondAuth(sa *IKESA, in *msg.Message, raw []byte, local, remote netip.AddrPort) ([]msg.Payload, func(), error) {
	if sa.State != StateConnecting || sa.Initiator {
		return []msg.Payload{&msg.Notify{NotType: msg.INVALID_SYNTAX}}, nil, errors.New("IKE_AUTH on an established SA")
	}
	failed := func(err error) ([]msg.Payload, func(), error) {
		return []msg.Payload{&msg.Notify{NotType: msg.AUTHENTICATION_FAILED}}, func() { m.kill(sa, err) }, err
	}
	idi, auth := in.GetID(false), msg.Get[*msg.Auth](in)
	if idi == nil || auth == nil {
		return failed(errors.New("IKE_AUTH without IDi or AUTH (EAP not supported)"))
	}
	peer := Identity{idi.IDType, idi.Data}
	// The connection: the one chosen at IKE_SA_INIT, or another whose
	// remote identity is the peer's.
	conf := sa.Conf
	if len(conf.RemoteID.Data) > 0 && !conf.RemoteID.Equal(peer) {
		conf = nil
		for _, c := range m.Conns {
			if c.RemoteID.Equal(peer) && m.findConn(local.Addr(), remote.Addr()) != nil {
				conf = c
				break
			}
		}
	}
	if conf == nil {
		return failed(fmt.Errorf("IKE_AUTH: no connection for peer %v", peer))
	}
	if idr := in.GetID(true); idr != nil && len(conf.LocalID.Data) > 0 && !conf.LocalID.Equal(Identity{idr.IDType, idr.Data}) {
		return failed(fmt.Errorf("IKE_AUTH: peer asks for %v, we are %v", Identity{idr.IDType, idr.Data}, conf.LocalID))
	}
	psk := m.psk(peer)
	if psk == nil || auth.Method != msg.AuthMethodSharedKeyMIC {
		return failed(fmt.Errorf("IKE_AUTH: no PSK in the PAD for %v (method %d)", peer, auth.Method))
	}
	want := sa.Suite.PRF.PSKAuth(psk, sa.initI, sa.Nr, sa.Keys.SKpi, idi.Body())
	if !hmacEqual(want, auth.Data) {
		return failed(fmt.Errorf("IKE_AUTH: AUTH of %v does not verify", peer))
	}
	sa.Conf = conf
	sa.PeerID = peer
	sa.State = StateEstablished
	sa.Local, sa.Remote = local, remote
	sa.MOBIKE = conf.MOBIKE && in.Notify(msg.MOBIKE_SUPPORTED) != nil
	delete(m.halfOpen, halfKey{sa.SPIi, remote})
	for k, v := range m.halfOpen {
		if v == sa {
			delete(m.halfOpen, k)
		}
	}
	idr := conf.LocalID.payload(true)
	ps := []msg.Payload{idr, &msg.Auth{Method: msg.AuthMethodSharedKeyMIC, Data: sa.Suite.PRF.PSKAuth(psk, sa.initR, sa.Ni, sa.Keys.SKpr, idr.Body())}}
	if sa.MOBIKE {
		ps = append(ps, &msg.Notify{NotType: msg.MOBIKE_SUPPORTED})
	}
	m.emit(Event{Kind: "ike-up", SA: sa})
	cps, err := m.respondChild(sa, in, sa.Ni, sa.Nr, nil, nil)
	if err != nil {
		m.emit(Event{Kind: "failed", SA: sa, Err: fmt.Errorf("child SA: %w", err)})
	}
	return append(ps, cps...), nil, nil
}

// respondChild negotiates a child SA the peer proposed; it returns the
// response payloads (SA, TSi, TSr or an error notify).
func (m *Manager) respondChild(sa *IKESA, in *msg.Message, ni, nr, shared []byte, old *ChildSA) ([]msg.Payload, error) {
	sap := in.Payloads
	_ = sap
	p := msg.Get[*msg.SA](in)
	tsi, tsr := in.GetTS(false), in.GetTS(true)
	if p == nil || tsi == nil || tsr == nil {
		return []msg.Payload{&msg.Notify{NotType: msg.INVALID_SYNTAX}}, errors.New("no SA or TS payloads")
	}
	ours := sa.Conf.ESPProposals
	if in.Exchange == msg.IKE_AUTH || shared == nil {
		ours = stripDH(ours)
	}
	chosen, ok := selectProposal(p.Proposals, ours)
	if !ok || len(chosen.SPI) != 4 {
		return []msg.Payload{&msg.Notify{NotType: msg.NO_PROPOSAL_CHOSEN}}, errors.New("no acceptable ESP proposal")
	}
	li := narrow(tsi.Selectors, sa.Conf.RemoteTS)
	lr := narrow(tsr.Selectors, sa.Conf.LocalTS)
	if len(li) == 0 || len(lr) == 0 {
		return []msg.Payload{&msg.Notify{NotType: msg.TS_UNACCEPTABLE}}, errors.New("traffic selectors unacceptable")
	}
	c, err := m.newChild(sa)
	if err != nil {
		return []msg.Payload{&msg.Notify{NotType: msg.TEMPORARY_FAILURE}}, err
	}
	if old != nil {
		c.Name = old.Name
	}
	c.SPIOut = binary.BigEndian.Uint32(chosen.SPI)
	c.LocalTS, c.RemoteTS = lr, li
	c.Transport = sa.Conf.Transport && in.Notify(msg.USE_TRANSPORT_MODE) != nil
	if err := m.keyChild(sa, c, chosen, ni, nr, shared, false); err != nil {
		m.Kernel.Delete(sa, c)
		return []msg.Payload{&msg.Notify{NotType: msg.NO_PROPOSAL_CHOSEN}}, err
	}
	if err := m.installChild(sa, c); err != nil {
		m.Kernel.Delete(sa, c)
		return []msg.Payload{&msg.Notify{NotType: msg.TEMPORARY_FAILURE}}, err
	}
	if old != nil {
		m.emit(Event{Kind: "child-rekeyed", SA: sa, Child: c})
		if old.rekeying {
			// A simultaneous rekey (RFC 7296 2.8.1): decided when ours
			// completes, or now if it already has.
			old.peerRekey, old.peerChild = [][]byte{append([]byte(nil), ni...), nr}, c
			if old.ourRekey != nil && lowestIn(old.ourRekey, old.peerRekey) {
				sa.queue = append(sa.queue, &deleteChildTask{children: []*ChildSA{old.ourChild}})
			}
		}
		old.Rekeyed = true
	}
	chosen.SPI = spiBytes(c.SPIIn)
	var ps []msg.Payload
	if c.Transport {
		ps = append(ps, &msg.Notify{NotType: msg.USE_TRANSPORT_MODE})
	}
	return append(ps, &msg.SA{Proposals: []msg.Proposal{chosen}}, &msg.TS{Selectors: li}, &msg.TS{Responder: true, Selectors: lr}), nil
}

// narrow intersects the peer's selectors with our prefixes.
func narrow(theirs []msg.Selector, ours []netip.Prefix) []msg.Selector {
	var out []msg.Selector
	for _, t := range theirs {
		for _, p := range ours {
			o := msg.SelectorFromPrefix(p)
			if o.TSType != t.TSType {
				continue
			}
			s := t
			if o.Start.Compare(s.Start) > 0 {
				s.Start = o.Start
			}
			if o.End.Compare(s.End) < 0 {
				s.End = o.End
			}
			if s.Start.Compare(s.End) > 0 || s.StartPort > s.EndPort {
				continue
			}
			out = append(out, s)
		}
	}
	return out
}

func (m *Manager) respondCreateChild(sa *IKESA, in *msg.Message) ([]msg.Payload, func(), error) {
	if sa.State != StateEstablished {
		return []msg.Payload{&msg.Notify{NotType: msg.TEMPORARY_FAILURE}}, nil, errors.New("CREATE_CHILD_SA on an SA not established")
	}
	p := msg.Get[*msg.SA](in)
	ni := msg.Get[*msg.Nonce](in)
	if p == nil || ni == nil || len(p.Proposals) == 0 {
		return []msg.Payload{&msg.Notify{NotType: msg.INVALID_SYNTAX}}, nil, errors.New("CREATE_CHILD_SA without SA or Nonce")
	}
	nr := nonce()
	ke := msg.Get[*msg.KE](in)
	if p.Proposals[0].Protocol == msg.ProtoIKE {
		return m.respondIKERekey(sa, in, p, ni.Data, nr, ke)
	}
	var old *ChildSA
	if n := in.Notify(msg.REKEY_SA); n != nil {
		if len(n.SPI) != 4 {
			return []msg.Payload{&msg.Notify{NotType: msg.INVALID_SYNTAX}}, nil, errors.New("REKEY_SA without a 4-octet SPI")
		}
		old = sa.childByOut(binary.BigEndian.Uint32(n.SPI))
		if old == nil {
			return []msg.Payload{&msg.Notify{Protocol: msg.ProtoESP, SPI: n.SPI, NotType: msg.CHILD_SA_NOT_FOUND}}, nil, fmt.Errorf("rekey of unknown child %x", n.SPI)
		}
	}
	var shared []byte
	var ourKE *msg.KE
	if ke != nil {
		want := proposalDH(sa.Conf.ESPProposals[0])
		if want == 0 || ke.Group != want {
			g := want
			if g == 0 {
				return []msg.Payload{&msg.Notify{NotType: msg.NO_PROPOSAL_CHOSEN}}, nil, errors.New("PFS not configured")
			}
			return []msg.Payload{&msg.Notify{NotType: msg.INVALID_KE_PAYLOAD, Data: binary.BigEndian.AppendUint16(nil, g)}}, nil, nil
		}
		dh, err := crypto.NewDH(ke.Group)
		if err != nil {
			return []msg.Payload{&msg.Notify{NotType: msg.NO_PROPOSAL_CHOSEN}}, nil, err
		}
		if shared, err = dh.Shared(ke.Data); err != nil {
			return []msg.Payload{&msg.Notify{NotType: msg.INVALID_SYNTAX}}, nil, err
		}
		defer clear(shared)
		ourKE = &msg.KE{Group: ke.Group, Data: dh.Public()}
	}
	cps, err := m.respondChild(sa, in, ni.Data, nr, shared, old)
	if err != nil {
		return cps, nil, err
	}
	ps := []msg.Payload{cps[0], &msg.Nonce{Data: nr}}
	if ourKE != nil {
		ps = append(ps, ourKE)
	}
	return append(ps, cps[1:]...), nil, nil
}

func (m *Manager) respondIKERekey(sa *IKESA, in *msg.Message, p *msg.SA, ni, nr []byte, ke *msg.KE) ([]msg.Payload, func(), error) {
	chosen, ok := selectProposal(p.Proposals, sa.Conf.IKEProposals)
	if !ok || len(chosen.SPI) != 8 {
		return []msg.Payload{&msg.Notify{NotType: msg.NO_PROPOSAL_CHOSEN}}, nil, errors.New("IKE rekey: no acceptable proposal")
	}
	g := proposalDH(chosen)
	if ke == nil || ke.Group != g {
		return []msg.Payload{&msg.Notify{NotType: msg.INVALID_KE_PAYLOAD, Data: binary.BigEndian.AppendUint16(nil, g)}}, nil, nil
	}
	dh, err := crypto.NewDH(g)
	if err != nil {
		return []msg.Payload{&msg.Notify{NotType: msg.NO_PROPOSAL_CHOSEN}}, nil, err
	}
	shared, err := dh.Shared(ke.Data)
	if err != nil {
		return []msg.Payload{&msg.Notify{NotType: msg.INVALID_SYNTAX}}, nil, err
	}
	defer clear(shared)
	spi := m.newSPI()
	peerSPI := binary.BigEndian.Uint64(chosen.SPI)
	nsa, err := m.rekeyedSA(sa, chosen, false, spi, peerSPI, ni, nr, shared)
	if err != nil {
		return []msg.Payload{&msg.Notify{NotType: msg.NO_PROPOSAL_CHOSEN}}, nil, err
	}
	m.emit(Event{Kind: "ike-rekeyed", SA: nsa})
	chosen.SPI = binary.BigEndian.AppendUint64(nil, spi)
	return []msg.Payload{&msg.SA{Proposals: []msg.Proposal{chosen}}, &msg.Nonce{Data: nr}, &msg.KE{Group: g, Data: dh.Public()}}, func() { m.kick(nsa) }, nil
}

func (m *Manager) respondInformational(sa *IKESA, in *msg.Message, local, remote netip.AddrPort) ([]msg.Payload, func(), error) {
	var resp []msg.Payload
	var after func()
	var delOurs [][]byte
	for _, p := range in.Payloads {
		d, ok := p.(*msg.Delete)
		if !ok {
			continue
		}
		switch d.Protocol {
		case msg.ProtoIKE:
			return nil, func() { m.kill(sa, nil) }, nil
		case msg.ProtoESP:
			for _, s := range d.SPIs {
				if len(s) != 4 {
					continue
				}
				c := sa.childByOut(binary.BigEndian.Uint32(s))
				if c == nil {
					continue
				}
				if !c.Rekeyed {
					delOurs = append(delOurs, spiBytes(c.SPIIn))
				} else {
					// A rekey collision-free delete of the old child: the
					// peer deletes both directions; answer with ours too.
					delOurs = append(delOurs, spiBytes(c.SPIIn))
				}
				m.Kernel.Delete(sa, c)
				sa.removeChild(c)
				m.emit(Event{Kind: "child-down", SA: sa, Child: c})
				c.Wipe()
			}
		}
	}
	if len(delOurs) > 0 {
		resp = append(resp, &msg.Delete{Protocol: msg.ProtoESP, SPISize: 4, SPIs: delOurs})
	}
	if in.Notify(msg.UPDATE_SA_ADDRESSES) != nil {
		if !sa.MOBIKE {
			return resp, nil, errors.New("UPDATE_SA_ADDRESSES without MOBIKE")
		}
		oldL, oldR := sa.Local, sa.Remote
		sa.checkNAT(in, local, remote, sa.SPIr)
		if sa.NAT() && in.Notify(msg.NO_NATS_ALLOWED) != nil {
			return append(resp, &msg.Notify{NotType: msg.UNEXPECTED_NAT_DETECTED}), nil, nil
		}
		sa.Local, sa.Remote = local, remote
		resp = append(resp, natNotifies(sa.SPIi, sa.SPIr, local, remote)...)
		if c := in.Notify(msg.COOKIE2); c != nil {
			resp = append(resp, &msg.Notify{NotType: msg.COOKIE2, Data: c.Data})
		}
		if oldL != local || oldR != remote {
			after = func() { m.moved(sa, oldL, oldR) }
		}
	} else if c := in.Notify(msg.COOKIE2); c != nil {
		resp = append(resp, &msg.Notify{NotType: msg.COOKIE2, Data: c.Data})
	}
	if t := sa.Conf.UpdateSPI; t != 0 {
		for _, n := range in.Notifies(t) {
			ack, f, err := m.applyUpdateSPI(sa, n)
			if err != nil {
				m.Log("ikev2: %v: UPDATE_SPI: %v", sa, err)
				continue
			}
			resp = append(resp, ack)
			if f != nil {
				prev := after
				after = func() {
					if prev != nil {
						prev()
					}
					f()
				}
			}
		}
	}
	return resp, after, nil
}

// moved updates the children after an address change.
func (m *Manager) moved(sa *IKESA, oldL, oldR netip.AddrPort) {
	// Nothing to move in the kernel when the addresses did not change:
	// the nAR's MOBIKE after a context transfer, whose SA was imported at
	// the new addresses and whose children ipsec-cxtpd installed already.
	same := oldL == sa.Local && oldR == sa.Remote
	for _, c := range sa.Children {
		if same {
			break
		}
		if err := m.Kernel.Move(sa, c, oldL.Addr(), oldR.Addr()); err != nil {
			m.emit(Event{Kind: "failed", SA: sa, Child: c, Err: err})
		}
	}
	m.emit(Event{Kind: "moved", SA: sa})
}
