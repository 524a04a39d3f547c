package ikev2

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/ikectx/ikectx/ikev2/crypto"
	"github.com/ikectx/ikectx/ikev2/msg"
)

// task is one exchange this end initiates (libcharon's task model): it
// builds the request and processes the response.
type task interface {
	exchange() msg.ExchangeType
	build(m *Manager, sa *IKESA) ([]msg.Payload, error)
	process(m *Manager, sa *IKESA, resp *msg.Message) error
	fail(m *Manager, sa *IKESA, err error)
}

// errRestart asks for the request to be rebuilt and sent again under the
// same message ID (COOKIE, INVALID_KE_PAYLOAD).
var errRestart = errors.New("restart")

// ExchangeError is an error notify received in a response.
type ExchangeError struct {
	Exchange msg.ExchangeType
	Notify   msg.NotifyType
}

func (e *ExchangeError) Error() string {
	return fmt.Sprintf("ikev2: %v: peer answered %v", e.Exchange, e.Notify)
}

func numbered(ps []msg.Proposal, spi []byte) []msg.Proposal {
	out := make([]msg.Proposal, len(ps))
	for i, p := range ps {
		p.Num = uint8(i + 1)
		p.SPI = spi
		out[i] = p
	}
	return out
}

// ---- IKE_SA_INIT ----

type initTask struct{ group uint16 }

func (t *initTask) exchange() msg.ExchangeType { return msg.IKE_SA_INIT }

func (t *initTask) build(m *Manager, sa *IKESA) ([]msg.Payload, error) {
	var err error
	if sa.dh == nil || sa.dh.Group() != t.group {
		if sa.dh, err = crypto.NewDH(t.group); err != nil {
			return nil, err
		}
	}
	var ps []msg.Payload
	if sa.cookie != nil {
		ps = append(ps, &msg.Notify{NotType: msg.COOKIE, Data: sa.cookie})
	}
	ps = append(ps, &msg.SA{Proposals: numbered(sa.Conf.IKEProposals, nil)},
		&msg.KE{Group: t.group, Data: sa.dh.Public()}, &msg.Nonce{Data: sa.Ni})
	return append(ps, natNotifies(sa.SPIi, 0, sa.Local, sa.Remote)...), nil
}

func (t *initTask) process(m *Manager, sa *IKESA, r *msg.Message) error {
	if c := r.Notify(msg.COOKIE); c != nil {
		if sa.cookie != nil && string(sa.cookie) == string(c.Data) {
			return errors.New("ikev2: IKE_SA_INIT: responder repeats the COOKIE we sent")
		}
		sa.cookie = append([]byte(nil), c.Data...)
		return errRestart
	}
	if n := r.Notify(msg.INVALID_KE_PAYLOAD); n != nil && len(n.Data) == 2 {
		g := binary.BigEndian.Uint16(n.Data)
		if g == t.group || crypto.KELen(g) == 0 {
			return fmt.Errorf("ikev2: IKE_SA_INIT: responder wants DH group %d", g)
		}
		t.group = g
		return errRestart
	}
	if n := r.FirstError(); n != nil {
		return &ExchangeError{msg.IKE_SA_INIT, n.NotType}
	}
	sap, ke, nr := msg.Get[*msg.SA](r), msg.Get[*msg.KE](r), msg.Get[*msg.Nonce](r)
	if sap == nil || ke == nil || nr == nil || len(sap.Proposals) != 1 || r.SPIr == 0 {
		return errors.New("ikev2: IKE_SA_INIT response without SA, KE, Nonce or responder SPI")
	}
	if !acceptedChoice(sap.Proposals[0], sa.Conf.IKEProposals) || proposalDH(sap.Proposals[0]) != t.group || ke.Group != t.group {
		return errors.New("ikev2: IKE_SA_INIT: responder chose a proposal we did not offer")
	}
	suite, err := crypto.SuiteFromProposal(sap.Proposals[0])
	if err != nil {
		return err
	}
	shared, err := sa.dh.Shared(ke.Data)
	if err != nil {
		return err
	}
	sa.SPIr = r.SPIr
	sa.Proposal = sap.Proposals[0]
	sa.Suite = suite
	sa.Nr = append([]byte(nil), nr.Data...)
	sa.SKEYSEED = suite.SKEYSEED(sa.Ni, sa.Nr, shared)
	clear(shared)
	sa.Keys = suite.DeriveKeys(sa.SKEYSEED, sa.Ni, sa.Nr, sa.SPIi, sa.SPIr)
	if sa.out, sa.in, err = suite.Protectors(sa.Keys, true); err != nil {
		return err
	}
	sa.dh = nil
	sa.checkNAT(r, sa.Local, sa.Remote, sa.SPIr)
	if sa.NAT() && sa.Remote.Port() != m.NATTPort {
		sa.Local = netip.AddrPortFrom(sa.Local.Addr(), m.NATTPort)
		sa.Remote = netip.AddrPortFrom(sa.Remote.Addr(), m.NATTPort)
	}
	return nil
}

func (t *initTask) fail(m *Manager, sa *IKESA, err error) { m.kill(sa, err) }

// ---- IKE_AUTH ----

type authTask struct{ child *ChildSA }

func (t *authTask) exchange() msg.ExchangeType { return msg.IKE_AUTH }

func (m *Manager) newChild(sa *IKESA) (*ChildSA, error) {
	spi, err := m.Kernel.AllocSPI(sa.Local.Addr(), sa.Remote.Addr())
	if err != nil {
		return nil, err
	}
	return &ChildSA{Name: sa.Conf.Name, Protocol: msg.ProtoESP, SPIIn: spi, Transport: sa.Conf.Transport, Lifetime: sa.Conf.ChildLifetime}, nil
}

func spiBytes(s uint32) []byte { return binary.BigEndian.AppendUint32(nil, s) }

func tsPayloads(c *Config) (*msg.TS, *msg.TS) {
	ti, tr := &msg.TS{}, &msg.TS{Responder: true}
	for _, p := range c.LocalTS {
		ti.Selectors = append(ti.Selectors, msg.SelectorFromPrefix(p))
	}
	for _, p := range c.RemoteTS {
		tr.Selectors = append(tr.Selectors, msg.SelectorFromPrefix(p))
	}
	return ti, tr
}

func (t *authTask) build(m *Manager, sa *IKESA) ([]msg.Payload, error) {
	c := sa.Conf
	idi := c.LocalID.payload(false)
	psk := m.psk(c.RemoteID)
	if psk == nil {
		return nil, fmt.Errorf("ikev2: no PSK for %v", c.RemoteID)
	}
	auth := sa.Suite.PRF.PSKAuth(psk, sa.initI, sa.Nr, sa.Keys.SKpi, idi.Body())
	ps := []msg.Payload{idi}
	if len(c.RemoteID.Data) > 0 {
		ps = append(ps, c.RemoteID.payload(true))
	}
	ps = append(ps, &msg.Auth{Method: msg.AuthMethodSharedKeyMIC, Data: auth}, &msg.Notify{NotType: msg.INITIAL_CONTACT})
	if c.MOBIKE {
		ps = append(ps, &msg.Notify{NotType: msg.MOBIKE_SUPPORTED})
	}
	if t.child == nil {
		ch, err := m.newChild(sa)
		if err != nil {
			return nil, err
		}
		t.child = ch
	}
	if c.Transport {
		ps = append(ps, &msg.Notify{NotType: msg.USE_TRANSPORT_MODE})
	}
	ti, tr := tsPayloads(c)
	ps = append(ps, &msg.SA{Proposals: numbered(stripDH(c.ESPProposals), spiBytes(t.child.SPIIn))}, ti, tr)
	return ps, nil
}

// stripDH removes DH transforms: the IKE_AUTH child has no KE (RFC 7296 1.2).
func stripDH(ps []msg.Proposal) []msg.Proposal {
	out := make([]msg.Proposal, len(ps))
	for i, p := range ps {
		q := p
		q.Transforms = nil
		for _, t := range p.Transforms {
			if t.Type != msg.TransDH {
				q.Transforms = append(q.Transforms, t)
			}
		}
		out[i] = q
	}
	return out
}

func (t *authTask) process(m *Manager, sa *IKESA, r *msg.Message) error {
	if n := r.Notify(msg.AUTHENTICATION_FAILED); n != nil {
		return &ExchangeError{msg.IKE_AUTH, n.NotType}
	}
	idr, auth := r.GetID(true), msg.Get[*msg.Auth](r)
	if idr == nil || auth == nil {
		if n := r.FirstError(); n != nil {
			return &ExchangeError{msg.IKE_AUTH, n.NotType}
		}
		return errors.New("ikev2: IKE_AUTH response without IDr or AUTH")
	}
	peer := Identity{idr.IDType, idr.Data}
	if len(sa.Conf.RemoteID.Data) > 0 && !peer.Equal(sa.Conf.RemoteID) {
		return fmt.Errorf("ikev2: IKE_AUTH: responder is %v, expected %v", peer, sa.Conf.RemoteID)
	}
	psk := m.psk(peer)
	if psk == nil || auth.Method != msg.AuthMethodSharedKeyMIC {
		return fmt.Errorf("ikev2: IKE_AUTH: no PSK for %v (method %d)", peer, auth.Method)
	}
	want := sa.Suite.PRF.PSKAuth(psk, sa.initR, sa.Ni, sa.Keys.SKpr, idr.Body())
	if !hmacEqual(want, auth.Data) {
		return errors.New("ikev2: IKE_AUTH: responder's AUTH does not verify")
	}
	sa.PeerID = peer
	sa.State = StateEstablished
	sa.MOBIKE = sa.Conf.MOBIKE && r.Notify(msg.MOBIKE_SUPPORTED) != nil
	m.emit(Event{Kind: "ike-up", SA: sa})
	var cerr error
	if n := r.FirstError(); n != nil {
		cerr = &ExchangeError{msg.IKE_AUTH, n.NotType}
	} else {
		cerr = m.completeChild(sa, t.child, r, sa.Ni, sa.Nr, nil, true)
	}
	if cerr != nil {
		m.Kernel.Delete(sa, t.child)
		m.emit(Event{Kind: "failed", SA: sa, Err: fmt.Errorf("child SA: %w", cerr)})
	}
	for _, f := range sa.onDone {
		f(cerr)
	}
	sa.onDone = nil
	return nil
}

func (t *authTask) fail(m *Manager, sa *IKESA, err error) {
	if t.child != nil {
		m.Kernel.Delete(sa, t.child)
	}
	m.kill(sa, err)
}

// completeChild finishes a child this end proposed from the response's
// SA and TS payloads.
func (m *Manager) completeChild(sa *IKESA, c *ChildSA, r *msg.Message, ni, nr, shared []byte, weInit bool) error {
	sap := msg.Get[*msg.SA](r)
	tsi, tsr := r.GetTS(false), r.GetTS(true)
	if sap == nil || len(sap.Proposals) != 1 || tsi == nil || tsr == nil {
		return errors.New("response without SA or TS payloads")
	}
	p := sap.Proposals[0]
	if len(p.SPI) != 4 || !acceptedChoice(p, sa.Conf.ESPProposals) && !acceptedChoice(p, stripDH(sa.Conf.ESPProposals)) {
		return errors.New("responder chose an ESP proposal we did not offer")
	}
	c.SPIOut = binary.BigEndian.Uint32(p.SPI)
	c.LocalTS, c.RemoteTS = tsi.Selectors, tsr.Selectors
	c.Transport = c.Transport && r.Notify(msg.USE_TRANSPORT_MODE) != nil
	if err := m.keyChild(sa, c, p, ni, nr, shared, weInit); err != nil {
		return err
	}
	return m.installChild(sa, c)
}

func (m *Manager) installChild(sa *IKESA, c *ChildSA) error {
	c.Created = m.Now()
	c.jitter = randJitter()
	if err := m.Kernel.Install(sa, c); err != nil {
		c.Wipe()
		return err
	}
	sa.Children = append(sa.Children, c)
	m.emit(Event{Kind: "child-up", SA: sa, Child: c})
	return nil
}

// keyChild sets the child's algorithms and keys (RFC 7296 2.17); the
// first keys are for the direction from the exchange's initiator.
func (m *Manager) keyChild(sa *IKESA, c *ChildSA, p msg.Proposal, ni, nr, shared []byte, weInit bool) error {
	c.Proposal = p
	for _, t := range p.Transforms {
		var err error
		switch t.Type {
		case msg.TransENCR:
			c.Encr, err = crypto.LookupEncr(t.ID, t.KeyLength())
		case msg.TransINTEG:
			c.Integ, err = crypto.LookupInteg(t.ID)
		case msg.TransESN:
			c.ESN = t.ID == msg.ESN_YES
		}
		if err != nil {
			return err
		}
	}
	il := c.Integ.KeyLen
	if c.Encr.AEAD {
		il = 0
	}
	eI, aI, eR, aR := sa.Suite.PRF.ChildKeys(sa.Keys.SKd, shared, ni, nr, c.Encr.KeyLen(), il)
	if weInit {
		c.EncOut, c.IntegOut, c.EncIn, c.IntegIn = eI, aI, eR, aR
	} else {
		c.EncOut, c.IntegOut, c.EncIn, c.IntegIn = eR, aR, eI, aI
	}
	return nil
}

// ---- CREATE_CHILD_SA: new child or child rekey ----

type childTask struct {
	old   *ChildSA // rekey of this child, or nil
	child *ChildSA
	ni    []byte
	dh    crypto.DH
	done  func(error)
	tries int // TEMPORARY_FAILURE answers so far
}

func (t *childTask) exchange() msg.ExchangeType { return msg.CREATE_CHILD_SA }

// finish reports the outcome once.
func (t *childTask) finish(err error) {
	if d := t.done; d != nil {
		t.done = nil
		d(err)
	}
}

func (t *childTask) build(m *Manager, sa *IKESA) ([]msg.Payload, error) {
	if sa.State != StateEstablished {
		return nil, errors.New("ikev2: CREATE_CHILD_SA on an SA that is not established")
	}
	if o := t.old; o != nil && (o.gone || o.Rekeyed || o.deleting || sa.child(o.SPIIn) != o) {
		// Rekeyed by the peer or deleted meanwhile: nothing to do.
		if o.Rekeyed && !o.gone {
			t.finish(nil)
		} else {
			t.finish(fmt.Errorf("ikev2: child SA 0x%08x deleted before its rekey", o.SPIIn))
		}
		return nil, errSkip
	}
	c, err := m.newChild(sa)
	if err != nil {
		return nil, err
	}
	t.child = c
	t.ni = m.nonce()
	var ps []msg.Payload
	if t.old != nil {
		t.old.rekeying = true
		t.old.active = t
		ps = append(ps, &msg.Notify{Protocol: msg.ProtoESP, SPI: spiBytes(t.old.SPIIn), NotType: msg.REKEY_SA})
	}
	if sa.Conf.Transport {
		ps = append(ps, &msg.Notify{NotType: msg.USE_TRANSPORT_MODE})
	}
	ps = append(ps, &msg.SA{Proposals: numbered(sa.Conf.ESPProposals, spiBytes(c.SPIIn))}, &msg.Nonce{Data: t.ni})
	if g := proposalDH(sa.Conf.ESPProposals[0]); g != 0 {
		if t.dh, err = crypto.NewDH(g); err != nil {
			return nil, err
		}
		ps = append(ps, &msg.KE{Group: g, Data: t.dh.Public()})
	}
	ti, tr := tsPayloads(sa.Conf)
	if t.old != nil {
		ti.Selectors, tr.Selectors = t.old.LocalTS, t.old.RemoteTS
	}
	return append(ps, ti, tr), nil
}

func (t *childTask) process(m *Manager, sa *IKESA, r *msg.Message) error {
	if t.old != nil {
		t.old.active = nil
	}
	if n := r.FirstError(); n != nil {
		m.Kernel.Delete(sa, t.child) // the reserved inbound SPI
		if t.old != nil {
			return t.refused(m, sa, n)
		}
		if n.NotType == msg.TEMPORARY_FAILURE {
			m.stats.TempFailuresReceived++
			t.tries++
			m.retryLater(sa, t, t.tries)
			return nil
		}
		return &ExchangeError{msg.CREATE_CHILD_SA, n.NotType}
	}
	nr := msg.Get[*msg.Nonce](r)
	if nr == nil {
		return errors.New("ikev2: CREATE_CHILD_SA response without Nonce")
	}
	var shared []byte
	if t.dh != nil {
		ke := msg.Get[*msg.KE](r)
		if ke == nil || ke.Group != t.dh.Group() {
			return errors.New("ikev2: CREATE_CHILD_SA response without the KE we asked for")
		}
		var err error
		if shared, err = t.dh.Shared(ke.Data); err != nil {
			return err
		}
		defer clear(shared)
	}
	if err := m.completeChild(sa, t.child, r, t.ni, nr.Data, shared, true); err != nil {
		m.Kernel.Delete(sa, t.child)
		return fmt.Errorf("ikev2: CREATE_CHILD_SA: %w", err)
	}
	if t.old == nil {
		t.finish(nil)
		return nil
	}
	old := t.old
	t.child.Name = old.Name
	m.emit(Event{Kind: "child-rekeyed", SA: sa, Child: t.child})
	switch p := old.passive; {
	case p != nil:
		// Both ends rekeyed it (RFC 7296 2.8.1): the exchange holding
		// the lowest of the four nonces made the redundant child, its
		// initiator deletes it; the other initiator deletes the old one.
		old.passive = nil
		old.Rekeyed = true
		m.stats.ChildCollisions++
		if lowestIn([][]byte{t.ni, nr.Data}, p.nonces) {
			m.stats.RedundantDeleted++
			t.child.Rekeyed = true
			old.deadline = m.Now().Add(m.DeleteWait) // the peer deletes it
			m.Log("ikev2: %v: simultaneous rekey of %v: ours lost, deleting our redundant %v", sa, old, t.child)
			sa.front(&deleteChildTask{children: []*ChildSA{t.child}, done: t.done})
			t.done = nil
			return nil
		}
		p.child.Rekeyed = true
		p.child.deadline = m.Now().Add(2 * m.RetransmitBase) // the peer deletes it
		m.Log("ikev2: %v: simultaneous rekey of %v: ours won, the peer deletes its redundant 0x%08x", sa, old, p.child.SPIIn)
	case old.gone:
		// The peer deleted the old child after answering our rekey:
		// the new one stays, nothing left to delete.
		t.finish(nil)
		return nil
	}
	// The rekey completes when the old child is deleted.
	old.Rekeyed = true
	if old.gone {
		t.finish(nil)
		return nil
	}
	sa.front(&deleteChildTask{children: []*ChildSA{old}, done: t.done})
	t.done = nil
	return nil
}

// refused handles an error notify answering our rekey of t.old (RFC 7296
// 2.25, 2.25.1).
func (t *childTask) refused(m *Manager, sa *IKESA, n *msg.Notify) error {
	old := t.old
	if n.NotType == msg.TEMPORARY_FAILURE {
		m.stats.TempFailuresReceived++
	}
	switch {
	case old.passive != nil:
		// The peer rekeyed it and completed before it saw ours: its
		// child replaces the old one, which it deletes.
		m.concludeChild(sa, t, fmt.Sprintf("the peer answered ours with %v", n.NotType))
		return nil
	case old.gone:
		// Our rekey crossed the peer's Delete of the child.
		m.stats.RekeyDeleteCollisions++
		m.Log("ikev2: %v: rekey of 0x%08x crossed its Delete by the peer", sa, old.SPIIn)
		t.finish(fmt.Errorf("ikev2: child SA 0x%08x deleted by the peer during its rekey", old.SPIIn))
		return nil
	case n.NotType == msg.TEMPORARY_FAILURE:
		t.tries++
		m.retryLater(sa, t, t.tries)
		return nil
	case n.NotType == msg.CHILD_SA_NOT_FOUND:
		// The peer lost it without a Delete: close ours silently and
		// create a new one from scratch (RFC 7296 2.25).
		m.Log("ikev2: %v: peer does not know child 0x%08x, recreating it", sa, old.SPIIn)
		m.dropChild(sa, old)
		sa.front(&childTask{done: t.done})
		t.done = nil
		return nil
	}
	old.rekeying = false
	return &ExchangeError{msg.CREATE_CHILD_SA, n.NotType}
}

func (t *childTask) fail(m *Manager, sa *IKESA, err error) {
	if t.old != nil && t.old.active == t {
		t.old.active = nil
	}
	if t.done == nil {
		return
	}
	t.finish(err)
	m.emit(Event{Kind: "failed", SA: sa, Err: err})
}

// ---- CREATE_CHILD_SA: IKE SA rekey ----

type ikeRekeyTask struct {
	of    *IKESA // the SA to rekey (a queued task moves with the children)
	spi   uint64
	ni    []byte
	dh    crypto.DH
	done  func(error)
	tries int
}

func (t *ikeRekeyTask) exchange() msg.ExchangeType { return msg.CREATE_CHILD_SA }

func (t *ikeRekeyTask) finish(err error) {
	if d := t.done; d != nil {
		t.done = nil
		d(err)
	}
}

func (t *ikeRekeyTask) build(m *Manager, sa *IKESA) ([]msg.Payload, error) {
	if t.of == nil {
		t.of = sa
	}
	if t.of != sa || sa.rekeyedBy != nil {
		// Rekeyed (by the peer) while this task waited: done.
		t.finish(nil)
		return nil, errSkip
	}
	if sa.State != StateEstablished {
		return nil, errors.New("ikev2: IKE rekey of an SA that is not established")
	}
	t.spi = m.newSPI()
	t.ni = m.nonce()
	var err error
	if t.dh, err = crypto.NewDH(sa.Suite.DH); err != nil {
		return nil, err
	}
	sa.activeRekey = t
	spi := binary.BigEndian.AppendUint64(nil, t.spi)
	return []msg.Payload{&msg.SA{Proposals: numbered([]msg.Proposal{sa.Proposal}, spi)}, &msg.Nonce{Data: t.ni}, &msg.KE{Group: sa.Suite.DH, Data: t.dh.Public()}}, nil
}

func (t *ikeRekeyTask) process(m *Manager, sa *IKESA, r *msg.Message) error {
	sa.activeRekey = nil
	if n := r.FirstError(); n != nil {
		if n.NotType == msg.TEMPORARY_FAILURE {
			m.stats.TempFailuresReceived++
		}
		if sa.passive != nil {
			// The peer rekeyed it and completed before it saw ours
			// (RFC 7296 2.8.2): its SA survives, it deletes the old one.
			m.concludeIKE(sa, t, fmt.Sprintf("the peer answered ours with %v", n.NotType))
			return nil
		}
		if n.NotType == msg.TEMPORARY_FAILURE {
			t.tries++
			m.retryLater(sa, t, t.tries)
			return nil
		}
		return &ExchangeError{msg.CREATE_CHILD_SA, n.NotType}
	}
	sap, ke, nr := msg.Get[*msg.SA](r), msg.Get[*msg.KE](r), msg.Get[*msg.Nonce](r)
	if sap == nil || ke == nil || nr == nil || len(sap.Proposals) != 1 || len(sap.Proposals[0].SPI) != 8 {
		return errors.New("ikev2: IKE rekey response without SA, KE or Nonce")
	}
	shared, err := t.dh.Shared(ke.Data)
	if err != nil {
		return err
	}
	defer clear(shared)
	nsa, err := m.rekeyedSA(sa, sap.Proposals[0], true, t.spi, binary.BigEndian.Uint64(sap.Proposals[0].SPI), t.ni, nr.Data, shared)
	if err != nil {
		return err
	}
	if p := sa.passive; p != nil {
		// Both ends rekeyed it (RFC 7296 2.8.2): the new SA holding the
		// lowest nonce is deleted by its initiator, the other inherits
		// the children; the old SA is deleted by the winner.
		sa.passive = nil
		m.stats.IKECollisions++
		if lowestIn([][]byte{t.ni, nr.Data}, p.nonces) {
			m.stats.RedundantDeleted++
			m.Log("ikev2: %v: simultaneous IKE SA rekey: ours lost, deleting our redundant %v; %v survives", sa, nsa, p.sa)
			m.adopt(sa, p.sa)
			nsa.redundant = true
			nsa.queue = append(nsa.queue, &deleteIKETask{done: t.done})
			t.done = nil
			m.kick(nsa)
			m.kick(p.sa)
			return nil
		}
		m.Log("ikev2: %v: simultaneous IKE SA rekey: ours won, %v survives, the peer deletes its redundant %v", sa, nsa, p.sa)
		p.sa.pendingOf = nil
		p.sa.redundant = true
		// The peer deletes it; if it does not soon (charon, seeing our
		// Delete of the old SA before our answer, drops its redundant
		// SA silently), we delete it: unanswered, the Delete ends with
		// the retransmissions.
		p.sa.deadline = m.Now().Add(2 * m.RetransmitBase)
	}
	m.adopt(sa, nsa)
	sa.front(&deleteIKETask{done: t.done})
	t.done = nil
	m.kick(nsa)
	return nil
}

func (t *ikeRekeyTask) fail(m *Manager, sa *IKESA, err error) {
	if sa.activeRekey == t {
		sa.activeRekey = nil
	}
	if t.done == nil {
		return
	}
	t.finish(err)
	m.emit(Event{Kind: "failed", SA: sa, Err: err})
}

// rekeyedSA builds and registers the new IKE SA of a rekey; adopt moves the
// children to it.
func (m *Manager) rekeyedSA(old *IKESA, p msg.Proposal, weInit bool, ourSPI, peerSPI uint64, ni, nr, shared []byte) (*IKESA, error) {
	suite, err := crypto.SuiteFromProposal(p)
	if err != nil {
		return nil, err
	}
	p.SPI = nil
	n := &IKESA{Conf: old.Conf, Initiator: weInit, Proposal: p, Suite: suite, Local: old.Local, Remote: old.Remote,
		NATLocal: old.NATLocal, NATRemote: old.NATRemote, MOBIKE: old.MOBIKE, PeerID: old.PeerID, Created: m.Now(),
		State: StateEstablished, Ni: append([]byte(nil), ni...), Nr: append([]byte(nil), nr...)}
	if weInit {
		n.SPIi, n.SPIr = ourSPI, peerSPI
	} else {
		n.SPIi, n.SPIr = peerSPI, ourSPI
	}
	n.SKEYSEED = old.Suite.RekeySKEYSEED(old.Keys.SKd, shared, ni, nr)
	n.Keys = suite.DeriveKeys(n.SKEYSEED, n.Ni, n.Nr, n.SPIi, n.SPIr)
	if n.out, n.in, err = suite.Protectors(n.Keys, weInit); err != nil {
		return nil, err
	}
	m.register(n, n.LocalSPI())
	return n, nil
}

// ---- INFORMATIONAL ----

type deleteChildTask struct {
	children []*ChildSA
	done     func(error)
}

func (t *deleteChildTask) exchange() msg.ExchangeType { return msg.INFORMATIONAL }

func (t *deleteChildTask) build(m *Manager, sa *IKESA) ([]msg.Payload, error) {
	live := t.children[:0]
	for _, c := range t.children {
		if !c.gone {
			live = append(live, c)
		}
	}
	t.children = live
	if len(live) == 0 {
		if t.done != nil {
			t.done(nil)
		}
		return nil, errSkip
	}
	d := &msg.Delete{Protocol: msg.ProtoESP, SPISize: 4}
	for _, c := range live {
		c.deleting = true
		d.SPIs = append(d.SPIs, spiBytes(c.SPIIn))
	}
	return []msg.Payload{d}, nil
}

func (t *deleteChildTask) process(m *Manager, sa *IKESA, r *msg.Message) error {
	for _, c := range t.children {
		m.dropChild(sa, c)
	}
	if t.done != nil {
		t.done(nil)
	}
	return nil
}

func (t *deleteChildTask) fail(m *Manager, sa *IKESA, err error) {
	if t.done != nil {
		t.done(err)
	}
}

type deleteIKETask struct{ done func(error) }

func (*deleteIKETask) exchange() msg.ExchangeType { return msg.INFORMATIONAL }
func (*deleteIKETask) build(m *Manager, sa *IKESA) ([]msg.Payload, error) {
	sa.State = StateDeleting
	return []msg.Payload{&msg.Delete{Protocol: msg.ProtoIKE}}, nil
}
func (t *deleteIKETask) process(m *Manager, sa *IKESA, r *msg.Message) error {
	m.kill(sa, nil)
	if t.done != nil {
		t.done(nil)
	}
	return nil
}
func (t *deleteIKETask) fail(m *Manager, sa *IKESA, err error) {
	m.kill(sa, err)
	if t.done != nil {
		t.done(err)
	}
}

type dpdTask struct{ done func(error) }

func (t *dpdTask) exchange() msg.ExchangeType { return msg.INFORMATIONAL }
func (t *dpdTask) build(*Manager, *IKESA) ([]msg.Payload, error) {
	return nil, nil
}
func (t *dpdTask) process(m *Manager, sa *IKESA, r *msg.Message) error {
	if t.done != nil {
		t.done(nil)
	}
	return nil
}
func (t *dpdTask) fail(m *Manager, sa *IKESA, err error) {
	if t.done != nil {
		t.done(err)
	}
}

func hmacEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := range a {
		v |= a[i] ^ b[i]
	}
	return v == 0
}
