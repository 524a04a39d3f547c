package ike

import (
	"bytes"
	"crypto/hmac"
	"fmt"
	"time"

	"github.com/ikectx/ikectx/racoon/isakmp"
)

// Phase2Config is what one quick mode needs (from a sainfo and the policy).
type Phase2Config struct {
	Proposals []Proposal2 // initiator: offered; responder: acceptable
	PFSGroup  uint16      // 0: no PFS
	Check     ProposalCheck
	// IDci/IDcr are the client identities; both nil means none are sent
	// (the phase-1 addresses are the selectors).
	IDci, IDcr *isakmp.ID
	// AllocSPI returns our inbound SPI for the agreed proposal (the daemon
	// asks the kernel with GETSPI, or draws one without a kernel).
	AllocSPI func(p Proposal2) (uint32, error)
	// Commit sets the commit bit in our messages.
	Commit    bool
	NonceSize int
}

// Phase2State is the state of a quick mode.
type Phase2State int

const (
	P2Start Phase2State = iota
	P2SentQM1
	P2SentQM2
	P2WaitConnected // initiator: the responder set the commit bit
	P2Established
	P2Failed
)

func (s Phase2State) String() string {
	return [...]string{"start", "sent QM1", "sent QM2", "waiting for CONNECTED", "established", "failed"}[s]
}

// Phase2 is one quick-mode exchange and the IPsec SA pair it creates.
type Phase2 struct {
	P1        *Phase1
	Cfg       *Phase2Config
	MsgID     uint32
	Initiator bool
	State     Phase2State
	Chosen    Proposal2
	SPIIn     uint32 // ours: the peer sends to it
	SPIOut    uint32 // the peer's
	IDci      *isakmp.ID
	IDcr      *isakmp.ID
	KeyIn     []byte // KEYMAT of the inbound SA: encryption key then auth key
	KeyOut    []byte
	Started   time.Time
	Done      time.Time
	LastSent  []byte

	ni, nr []byte
	dh     *DH
	gxy    []byte
	recv   []byte

	peerCommit bool
}

// Wipe forgets the KEYMAT and DH secrets.
func (q *Phase2) Wipe() {
	clear(q.KeyIn)
	clear(q.KeyOut)
	clear(q.gxy)
	q.dh.Wipe()
	q.KeyIn, q.KeyOut, q.gxy = nil, nil, nil
}

// Established reports whether the SA pair is ready to install.
func (q *Phase2) Established() bool { return q.State == P2Established }

// NewQuickInitiator starts a quick mode on an established phase 1.
func NewQuickInitiator(p1 *Phase1, cfg *Phase2Config) (*Phase2, []byte, error) {
	if !p1.Established() {
		return nil, nil, fmt.Errorf("ike: phase 1 is not established")
	}
	if len(cfg.Proposals) == 0 {
		return nil, nil, fmt.Errorf("ike: no phase-2 proposal")
	}
	q := &Phase2{P1: p1, Cfg: cfg, MsgID: p1.nextMsgID(), Initiator: true, Started: time.Now(), IDci: cfg.IDci, IDcr: cfg.IDcr}
	spi, err := cfg.AllocSPI(cfg.Proposals[0])
	if err != nil {
		return nil, nil, fmt.Errorf("SPI: %w", err)
	}
	q.SPIIn = spi
	props := append([]Proposal2(nil), cfg.Proposals...)
	for i := range props {
		props[i].Group = cfg.PFSGroup
		if p1.NATDetected {
			props[i].Encap = udpEncap(props[i].Encap)
		}
	}
	q.ni = nonce(cfg.NonceSize)
	ps := []isakmp.Payload{Phase2SA(props, spi), &isakmp.Nonce{Data: q.ni}}
	if cfg.PFSGroup != 0 {
		g, err := GroupByID(cfg.PFSGroup)
		if err != nil {
			return nil, nil, err
		}
		if q.dh, err = NewDH(g); err != nil {
			return nil, nil, err
		}
		ps = append(ps, &isakmp.KE{Data: q.dh.Public})
	}
	if q.IDci != nil && q.IDcr != nil {
		ps = append(ps, q.IDci, q.IDcr)
	}
	rest, _, err := isakmp.AppendPayloads(nil, ps)
	if err != nil {
		return nil, nil, err
	}
	h := QuickHash1(p1.prf, p1.Keys.A, q.MsgID, rest)
	out, err := q.send(append([]isakmp.Payload{&isakmp.Hash{Data: h}}, ps...))
	if err != nil {
		return nil, nil, err
	}
	q.State = P2SentQM1
	p1.Phase2Count++
	return q, out, nil
}

func udpEncap(e uint16) uint16 {
	switch e {
	case isakmp.EncapTunnel:
		return isakmp.EncapUDPTunnel
	case isakmp.EncapTransport:
		return isakmp.EncapUDPTransport
	}
	return e
}

// send encrypts a quick-mode message with this exchange's IV chain.
func (q *Phase2) send(ps []isakmp.Payload) ([]byte, error) {
	flags := uint8(0)
	if q.Cfg != nil && q.Cfg.Commit {
		flags |= isakmp.FlagCommit
	}
	out, next, err := q.P1.encrypt(q.P1.header(isakmp.ExchangeQuick, flags, q.MsgID), q.P1.phase2IV(q.MsgID), ps...)
	if err != nil {
		return nil, err
	}
	q.P1.p2iv[q.MsgID] = next
	q.LastSent = out
	return out, nil
}

// open decrypts a message of this exchange and advances the IV chain.
func (q *Phase2) open(m *isakmp.Message) (payloads, error) {
	if !m.Header.Encrypted() {
		return nil, fmt.Errorf("quick mode message is not encrypted")
	}
	ps, next, err := q.P1.decrypt(m, q.P1.phase2IV(q.MsgID))
	if err != nil {
		return nil, err
	}
	q.P1.p2iv[q.MsgID] = next
	return ps, nil
}

// NewQuickResponder handles a peer's first quick-mode message. sel picks
// the configuration from the client identities (nil when absent).
func NewQuickResponder(p1 *Phase1, raw []byte, sel func(idci, idcr *isakmp.ID) (*Phase2Config, error)) (*Phase2, []byte, error) {
	if !p1.Established() {
		return nil, nil, fmt.Errorf("ike: quick mode before phase 1 is established")
	}
	m, err := isakmp.Parse(raw)
	if err != nil {
		return nil, nil, err
	}
	if m.Header.ExchangeType != isakmp.ExchangeQuick || m.Header.MessageID == 0 {
		return nil, nil, fmt.Errorf("not a quick mode message")
	}
	q := &Phase2{P1: p1, MsgID: m.Header.MessageID, Started: time.Now()}
	ps, err := q.open(m)
	if err != nil {
		delete(p1.p2iv, q.MsgID)
		return nil, nil, err
	}
	fail := func(err error) (*Phase2, []byte, error) {
		q.State = P2Failed
		return q, nil, err
	}
	if len(ps) < 3 || ps[0].PayloadType() != isakmp.PayloadHash {
		return fail(fmt.Errorf("quick mode message 1 must start with HASH(1)"))
	}
	rest, _, err := isakmp.AppendPayloads(nil, ps[1:])
	if err != nil {
		return fail(err)
	}
	if !hmac.Equal(ps[0].(*isakmp.Hash).Data, QuickHash1(p1.prf, p1.Keys.A, q.MsgID, rest)) {
		return fail(fmt.Errorf("HASH(1) mismatch"))
	}
	p1.msgIDs[q.MsgID] = true
	sa, _ := ps.get(isakmp.PayloadSA).(*isakmp.SA)
	n, _ := ps.get(isakmp.PayloadNonce).(*isakmp.Nonce)
	if sa == nil || n == nil {
		return fail(fmt.Errorf("quick mode message 1 without SA or nonce"))
	}
	q.ni = n.Data
	ids := ps.all(isakmp.PayloadID)
	switch len(ids) {
	case 0:
	case 2:
		q.IDci, q.IDcr = ids[0].(*isakmp.ID), ids[1].(*isakmp.ID)
	default:
		return fail(fmt.Errorf("quick mode message 1 with %d ID payloads", len(ids)))
	}
	cfg, err := sel(q.IDci, q.IDcr)
	if err != nil {
		return fail(err)
	}
	q.Cfg = cfg
	chosen, spiOut, reply, err := SelectPhase2(sa, cfg.Proposals, cfg.PFSGroup, cfg.Check)
	if err != nil {
		return fail(err)
	}
	q.Chosen, q.SPIOut = chosen, spiOut
	ke, _ := ps.get(isakmp.PayloadKE).(*isakmp.KE)
	if (ke != nil) != (chosen.Group != 0) {
		return fail(fmt.Errorf("KE payload presence does not match the PFS group %d", chosen.Group))
	}
	if q.SPIIn, err = cfg.AllocSPI(chosen); err != nil {
		return fail(fmt.Errorf("SPI: %w", err))
	}
	reply.SPI = be32(q.SPIIn)
	q.nr = nonce(cfg.NonceSize)
	out := []isakmp.Payload{&isakmp.SA{DOI: sa.DOI, Situation: sa.Situation, Proposals: []isakmp.Proposal{*reply}}, &isakmp.Nonce{Data: q.nr}}
	if chosen.Group != 0 {
		g, err := GroupByID(chosen.Group)
		if err != nil {
			return fail(err)
		}
		if q.dh, err = NewDH(g); err != nil {
			return fail(err)
		}
		if q.gxy, err = q.dh.Shared(ke.Data); err != nil {
			return fail(err)
		}
		out = append(out, &isakmp.KE{Data: q.dh.Public})
	}
	if q.IDci != nil {
		out = append(out, q.IDci, q.IDcr)
	}
	rest, _, err = isakmp.AppendPayloads(nil, out)
	if err != nil {
		return fail(err)
	}
	h := QuickHash2(p1.prf, p1.Keys.A, q.MsgID, q.ni, rest)
	q.peerCommit = m.Header.Commit()
	b, err := q.send(append([]isakmp.Payload{&isakmp.Hash{Data: h}}, out...))
	if err != nil {
		return fail(err)
	}
	q.recv = append([]byte(nil), raw...)
	q.State = P2SentQM2
	p1.Phase2Count++
	return q, b, nil
}

// Handle processes a later message of this quick mode.
func (q *Phase2) Handle(raw []byte) ([]byte, error) {
	if q.recv != nil && bytes.Equal(raw, q.recv) {
		return nil, ErrRetransmit
	}
	m, err := isakmp.Parse(raw)
	if err != nil {
		return nil, err
	}
	if m.Header.MessageID != q.MsgID {
		return nil, fmt.Errorf("message ID %#x is not this quick mode's %#x", m.Header.MessageID, q.MsgID)
	}
	saved := append([]byte(nil), q.P1.phase2IV(q.MsgID)...)
	ps, err := q.open(m)
	if err != nil {
		return nil, err
	}
	out, err := q.step(m, ps)
	if err != nil {
		q.P1.p2iv[q.MsgID] = saved
		return nil, err
	}
	q.recv = append([]byte(nil), raw...)
	return out, nil
}

func (q *Phase2) step(m *isakmp.Message, ps payloads) ([]byte, error) {
	p1 := q.P1
	switch {
	case q.Initiator && q.State == P2SentQM1:
		if len(ps) < 3 || ps[0].PayloadType() != isakmp.PayloadHash {
			if n, ok := ps.get(isakmp.PayloadNotification).(*isakmp.Notification); ok {
				return nil, fmt.Errorf("peer refused: %s", n.Type)
			}
			return nil, fmt.Errorf("quick mode message 2 must start with HASH(2)")
		}
		n, _ := ps.get(isakmp.PayloadNonce).(*isakmp.Nonce)
		sa, _ := ps.get(isakmp.PayloadSA).(*isakmp.SA)
		if n == nil || sa == nil {
			return nil, fmt.Errorf("quick mode message 2 without SA or nonce")
		}
		rest, _, err := isakmp.AppendPayloads(nil, ps[1:])
		if err != nil {
			return nil, err
		}
		if !hmac.Equal(ps[0].(*isakmp.Hash).Data, QuickHash2(p1.prf, p1.Keys.A, q.MsgID, q.ni, rest)) {
			return nil, fmt.Errorf("HASH(2) mismatch")
		}
		q.nr = n.Data
		if len(sa.Proposals) != 1 || len(sa.Proposals[0].Transforms) != 1 || len(sa.Proposals[0].SPI) != 4 {
			return nil, fmt.Errorf("the responder's SA must hold one proposal with one transform and a 4-byte SPI")
		}
		c, err := ParseTransform2(sa.Proposals[0].ProtocolID, &sa.Proposals[0].Transforms[0])
		if err != nil {
			return nil, err
		}
		ok := false
		for _, o := range q.Cfg.Proposals {
			if o.sameAlgs(c) {
				ok = true
				if c.Lifetime == 0 {
					c.Lifetime = o.Lifetime
				}
			}
		}
		if !ok || c.Group != q.Cfg.PFSGroup {
			return nil, fmt.Errorf("the responder chose a transform we did not offer (%s)", c)
		}
		q.Chosen = c
		q.SPIOut = be32u(sa.Proposals[0].SPI)
		if q.dh != nil {
			ke, _ := ps.get(isakmp.PayloadKE).(*isakmp.KE)
			if ke == nil {
				return nil, fmt.Errorf("PFS asked but the responder sent no KE")
			}
			if q.gxy, err = q.dh.Shared(ke.Data); err != nil {
				return nil, err
			}
		}
		h3 := QuickHash3(p1.prf, p1.Keys.A, q.MsgID, q.ni, q.nr)
		// either side's commit bit makes the responder confirm with CONNECTED
		commit := m.Header.Commit() || q.Cfg.Commit
		out, err := q.send([]isakmp.Payload{&isakmp.Hash{Data: h3}})
		if err != nil {
			return nil, err
		}
		if commit {
			q.State = P2WaitConnected
		} else {
			q.finish()
		}
		return out, nil
	case !q.Initiator && q.State == P2SentQM2:
		if len(ps) < 1 || ps[0].PayloadType() != isakmp.PayloadHash {
			return nil, fmt.Errorf("quick mode message 3 must be HASH(3)")
		}
		if !hmac.Equal(ps[0].(*isakmp.Hash).Data, QuickHash3(p1.prf, p1.Keys.A, q.MsgID, q.ni, q.nr)) {
			return nil, fmt.Errorf("HASH(3) mismatch")
		}
		var out []byte
		if q.peerCommit || q.Cfg.Commit {
			// RFC 2409 5.5: the responder answers the commit bit with CONNECTED
			n := &isakmp.Notification{DOI: isakmp.DOIIPsec, ProtocolID: q.Chosen.Protocol, Type: isakmp.Connected, SPI: be32(q.SPIOut)}
			nb, _, _ := isakmp.AppendPayloads(nil, []isakmp.Payload{n})
			h := InfoHash(p1.prf, p1.Keys.A, q.MsgID, nb)
			var next []byte
			var err error
			out, next, err = p1.encrypt(p1.header(isakmp.ExchangeInformational, 0, q.MsgID), p1.phase2IV(q.MsgID), &isakmp.Hash{Data: h}, n)
			if err != nil {
				return nil, err
			}
			p1.p2iv[q.MsgID] = next
		}
		q.finish()
		return out, nil
	case q.Initiator && q.State == P2WaitConnected:
		n, _ := ps.get(isakmp.PayloadNotification).(*isakmp.Notification)
		if len(ps) < 2 || ps[0].PayloadType() != isakmp.PayloadHash || n == nil || n.Type != isakmp.Connected {
			return nil, fmt.Errorf("expected HASH and N(CONNECTED)")
		}
		rest, _, _ := isakmp.AppendPayloads(nil, ps[1:])
		if !hmac.Equal(ps[0].(*isakmp.Hash).Data, InfoHash(p1.prf, p1.Keys.A, q.MsgID, rest)) {
			return nil, fmt.Errorf("CONNECTED HASH mismatch")
		}
		q.finish()
		return nil, nil
	}
	return nil, fmt.Errorf("unexpected quick mode message in state %s", q.State)
}

// finish computes KEYMAT for both SAs.
func (q *Phase2) finish() {
	p1 := q.P1
	n := q.Chosen.EncKeyLen() + q.Chosen.AuthKeyLen()
	proto := uint8(q.Chosen.Protocol)
	q.KeyIn = KEYMAT(p1.prf, p1.Keys.D, q.gxy, proto, q.SPIIn, q.ni, q.nr, n)
	q.KeyOut = KEYMAT(p1.prf, p1.Keys.D, q.gxy, proto, q.SPIOut, q.ni, q.nr, n)
	clear(q.gxy)
	q.gxy = nil
	q.dh.Wipe()
	q.State = P2Established
	q.Done = time.Now()
	delete(p1.p2iv, q.MsgID)
}

// SplitKey returns the encryption and authentication parts of a KEYMAT.
func (q *Phase2) SplitKey(k []byte) (enc, auth []byte) {
	e := q.Chosen.EncKeyLen()
	return k[:e], k[e:]
}

func be32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func be32u(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// String describes the exchange without KEYMAT (also for %v/%+v).
func (q *Phase2) String() string {
	return fmt.Sprintf("quick mode %#x state %s spi in %#x out %#x (%s)", q.MsgID, q.State, q.SPIIn, q.SPIOut, q.Chosen)
}

// GoString is String (for %#v).
func (q *Phase2) GoString() string { return q.String() }
