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
		if old.active != nil {
			// Our rekey of it is in flight too (RFC 7296 2.8.1, 2.25.1):
			// decided by the nonces when ours completes.
			old.passive = &passiveRekey{child: c, nonces: [][]byte{append([]byte(nil), ni...), append([]byte(nil), nr...)}}
			m.Log("ikev2: %v: peer rekeys %v while we do: answered, decided when ours completes", sa, old)
		} else {
			old.Rekeyed = true
			old.deadline = m.Now().Add(m.DeleteWait) // the peer deletes it
		}
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
	p := msg.Get[*msg.SA](in)
	ni := msg.Get[*msg.Nonce](in)
	if p == nil || ni == nil || len(p.Proposals) == 0 {
		return []msg.Payload{&msg.Notify{NotType: msg.INVALID_SYNTAX}}, nil, errors.New("CREATE_CHILD_SA without SA or Nonce")
	}
	ikeRekey := p.Proposals[0].Protocol == msg.ProtoIKE
	switch {
	case sa.State != StateEstablished:
		if ikeRekey && sa.rekeyedBy != nil {
			// We completed our rekey of it before seeing the peer's
			// (RFC 7296 2.8.2): we are closing it.
			m.stats.IKECollisions++
			m.Log("ikev2: %v: peer rekeys it, we rekeyed it already: TEMPORARY_FAILURE", sa)
		}
		return m.tempFailure(), nil, fmt.Errorf("CREATE_CHILD_SA on an SA %v", sa.State)
	case sa.pendingOf != nil:
		return m.tempFailure(), nil, errors.New("CREATE_CHILD_SA on a rekeyed SA not yet adopted")
	case ikeRekey && sa.passive != nil:
		// A second rekey of it before ours completed: not from a
		// window-1 peer.
		return m.tempFailure(), nil, errors.New("IKE rekey while a colliding one is undecided")
	case ikeRekey && sa.busyWithChild():
		// RFC 7296 2.25.1: no IKE SA rekey while we create, rekey or
		// delete a child.
		return m.tempFailure(), nil, errors.New("IKE rekey while a child exchange of ours is in flight")
	case !ikeRekey && sa.rekeyingIKE():
		// RFC 7296 2.25.2: no child while we rekey the IKE SA.
		return m.tempFailure(), nil, errors.New("CREATE_CHILD_SA while we rekey the IKE SA")
	}
	nr := m.nonce()
	ke := msg.Get[*msg.KE](in)
	if ikeRekey {
		return m.respondIKERekey(sa, in, p, ni.Data, nr, ke)
	}
	var old *ChildSA
	if n := in.Notify(msg.REKEY_SA); n != nil {
		if len(n.SPI) != 4 {
			return []msg.Payload{&msg.Notify{NotType: msg.INVALID_SYNTAX}}, nil, errors.New("REKEY_SA without a 4-octet SPI")
		}
		old = sa.childByOut(binary.BigEndian.Uint32(n.SPI))
		switch {
		case old == nil:
			return []msg.Payload{&msg.Notify{Protocol: msg.ProtoESP, SPI: n.SPI, NotType: msg.CHILD_SA_NOT_FOUND}}, nil, fmt.Errorf("rekey of unknown child %x", n.SPI)
		case old.deleting:
			// RFC 7296 2.25.1: a rekey of a child we are closing.
			m.stats.RekeyDeleteCollisions++
			return m.tempFailure(), nil, fmt.Errorf("rekey of %v, which we are deleting", old)
		case old.passive != nil:
			return m.tempFailure(), nil, fmt.Errorf("rekey of %v while a colliding one is undecided", old)
		case old.Rekeyed:
			// Rekeyed already (by us, before we saw the peer's rekey):
			// we are closing it.
			m.stats.ChildCollisions++
			return m.tempFailure(), nil, fmt.Errorf("rekey of %v, which was rekeyed already", old)
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
	chosen.SPI = binary.BigEndian.AppendUint64(nil, spi)
	ps := []msg.Payload{&msg.SA{Proposals: []msg.Proposal{chosen}}, &msg.Nonce{Data: nr}, &msg.KE{Group: g, Data: dh.Public()}}
	if sa.rekeyingIKE() {
		// Our rekey of it is in flight too (RFC 7296 2.8.2, 2.25.2): the
		// new SA waits, decided by the nonces when ours completes.
		sa.passive = &passiveRekey{sa: nsa, nonces: [][]byte{append([]byte(nil), ni...), append([]byte(nil), nr...)}}
		nsa.pendingOf = sa
		m.Log("ikev2: %v: peer rekeys it while we do: answered, decided when ours completes", sa)
		return ps, nil, nil
	}
	m.adopt(sa, nsa)
	return ps, func() { m.kick(nsa) }, nil
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
			if t := sa.activeRekey; t != nil && sa.passive != nil {
				// The peer completed its rekey without seeing ours
				// (RFC 7296 2.8.2): forget ours, its SA survives.
				m.concludeIKE(sa, t, "the peer deleted the old SA")
			}
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
				if c.deleting {
					// Both ends delete it (RFC 7296 1.4.1): no Delete in
					// the answer.
					m.stats.DeleteCollisions++
				} else {
					delOurs = append(delOurs, spiBytes(c.SPIIn))
				}
				if c.active != nil {
					m.Log("ikev2: %v: peer deletes %v while we rekey it", sa, c)
				}
				m.dropChild(sa, c)
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
		// A selector that was this end's or the peer's old address
		// follows it (FollowHost): the child is removed at the old
		// addresses with its old selectors and installed at the new.
		lts, lch := FollowHost(c.LocalTS, oldL.Addr(), sa.Local.Addr())
		rts, rch := FollowHost(c.RemoteTS, oldR.Addr(), sa.Remote.Addr())
		if !lch && !rch {
			if err := m.Kernel.Move(sa, c, oldL.Addr(), oldR.Addr()); err != nil {
				m.emit(Event{Kind: "failed", SA: sa, Child: c, Err: err})
			}
			continue
		}
		prev := *sa
		prev.Local, prev.Remote = oldL, oldR
		err := m.Kernel.Delete(&prev, c)
		c.LocalTS, c.RemoteTS = lts, rts
		if ierr := m.Kernel.Install(sa, c); ierr != nil || err != nil {
			m.emit(Event{Kind: "failed", SA: sa, Child: c, Err: errors.Join(err, ierr)})
		}
	}
	m.emit(Event{Kind: "moved", SA: sa})
}
