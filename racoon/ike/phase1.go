package ike

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/ikectx/ikectx/racoon/isakmp"
)

// Phase1Config is what one phase-1 negotiation needs from the
// configuration (the daemon fills it from a remote block and psk.txt).
type Phase1Config struct {
	Mode      isakmp.ExchangeType // ExchangeIdentityProt (main) or ExchangeAggressive
	Proposals []Proposal1         // initiator: offered in order; responder: acceptable
	NonceSize int                 // bytes, 8..256 (racoon's default is 16)
	MyID      *isakmp.ID
	// PSK returns the pre-shared key for the peer. peerID is nil in main
	// mode (racoon looks keys up by address) and the peer's identification
	// in aggressive mode. The caller keeps ownership of the returned slice.
	PSK func(peerID *isakmp.ID) ([]byte, error)
	// CheckPeerID, if set, validates the peer's identification
	// (peers_identifier with verify_identifier).
	CheckPeerID func(*isakmp.ID) error
	VendorIDs   [][]byte
	// NATT enables RFC 3947 NAT traversal: the vendor ID is sent, NAT-D
	// payloads follow the peer's, and NATDetected reports the result.
	NATT bool
}

// Phase1State is the state of a phase-1 exchange.
type Phase1State int

const (
	P1Start       Phase1State = iota
	P1SentSA                  // main I: msg 1 sent
	P1SentKE                  // main I: msg 3 sent
	P1SentAuth                // main I: msg 5 sent
	P1SentSAReply             // main R: msg 2 sent
	P1SentKEReply             // main R: msg 4 sent
	P1AggrSent1               // aggressive I: msg 1 sent
	P1AggrSent2               // aggressive R: msg 2 sent
	P1Established
	P1Failed
)

var p1StateNames = [...]string{"start", "sent SA", "sent KE", "sent auth", "sent SA reply", "sent KE reply",
	"aggressive msg 1 sent", "aggressive msg 2 sent", "established", "failed"}

func (s Phase1State) String() string {
	if int(s) < len(p1StateNames) {
		return p1StateNames[s]
	}
	return fmt.Sprintf("Phase1State(%d)", int(s))
}

// ErrRetransmit is returned by Handle when the datagram is a copy of the
// last one received: the caller resends LastSent.
var ErrRetransmit = errors.New("ike: retransmitted datagram")

// Phase1 is one ISAKMP SA and its negotiation.
type Phase1 struct {
	Cfg            *Phase1Config
	Initiator      bool
	Mode           isakmp.ExchangeType
	Local, Remote  netip.AddrPort
	ICookie        [8]byte
	RCookie        [8]byte
	State          Phase1State
	Chosen         Proposal1
	Keys           *Phase1Keys
	PeerID         *isakmp.ID
	Created        time.Time // when established
	Started        time.Time
	LastSent       []byte
	InitialContact bool // the peer sent INITIAL-CONTACT (inside phase 1)
	NATTPeer       bool // the peer announced RFC 3947
	NATDetected    bool // a NAT was detected (the exchange floats to 4500)
	Phase2Count    int

	prf    PRF
	cipher Cipher
	iv     []byte // phase-1 chaining IV; after establishment the last one
	dh     *DH
	gxi    []byte
	gxr    []byte
	ni, nr []byte
	sai    []byte // initiator's SA payload body
	idi    []byte // initiator's ID body
	idr    []byte // responder's ID body
	p2iv   map[uint32][]byte
	recv   []byte // last datagram received
	msgIDs map[uint32]bool
}

func randomCookie() (c [8]byte) {
	for c == ([8]byte{}) {
		rand.Read(c[:])
	}
	return c
}

func nonce(n int) []byte {
	if n < 8 || n > 256 {
		n = 16
	}
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// IV returns a copy of the current phase-1 IV (the last one once
// established), for export.
func (p *Phase1) IV() []byte { return append([]byte(nil), p.iv...) }

// Cipher and PRF of the SA.
func (p *Phase1) Cipher() Cipher { return p.cipher }

// PRF of the SA.
func (p *Phase1) PRF() PRF { return p.prf }

// Nonces returns the phase-1 nonces (for export).
func (p *Phase1) Nonces() (ni, nr []byte) { return p.ni, p.nr }

// Established reports whether the ISAKMP SA is usable.
func (p *Phase1) Established() bool { return p.State == P1Established }

// Wipe forgets every secret of the SA.
func (p *Phase1) Wipe() {
	p.Keys.Wipe()
	p.dh.Wipe()
	clear(p.iv)
	for _, v := range p.p2iv {
		clear(v)
	}
}

func (p *Phase1) header(et isakmp.ExchangeType, flags uint8, mid uint32) isakmp.Header {
	return isakmp.Header{InitiatorCookie: p.ICookie, ResponderCookie: p.RCookie, Version: isakmp.Version, ExchangeType: et, Flags: flags, MessageID: mid}
}

func (p *Phase1) plain(h isakmp.Header, ps ...isakmp.Payload) ([]byte, error) {
	m := &isakmp.Message{Header: h, Payloads: ps}
	return m.Marshal()
}

// encrypt builds an encrypted message with the given IV and returns the
// datagram and the IV for the next message (its last cipher block).
func (p *Phase1) encrypt(h isakmp.Header, iv []byte, ps ...isakmp.Payload) ([]byte, []byte, error) {
	body, first, err := isakmp.AppendPayloads(nil, ps)
	if err != nil {
		return nil, nil, err
	}
	ct, err := p.cipher.Encrypt(p.Keys.Enc, iv, body)
	clear(body)
	if err != nil {
		return nil, nil, err
	}
	h.Flags |= isakmp.FlagEncryption
	h.NextPayload = first
	m := &isakmp.Message{Header: h, Encrypted: ct}
	out, err := m.Marshal()
	if err != nil {
		return nil, nil, err
	}
	return out, append([]byte(nil), ct[len(ct)-p.cipher.BlockSize():]...), nil
}

// decrypt decrypts m with iv and returns its payloads and the next IV.
func (p *Phase1) decrypt(m *isakmp.Message, iv []byte) ([]isakmp.Payload, []byte, error) {
	if p.Keys == nil {
		return nil, nil, fmt.Errorf("encrypted message before the keys exist")
	}
	pt, err := p.cipher.Decrypt(p.Keys.Enc, iv, m.Encrypted)
	if err != nil {
		return nil, nil, err
	}
	ps, _, err := isakmp.ParsePayloads(m.Header.NextPayload, pt, isakmp.HeaderLen, true)
	if err != nil {
		return nil, nil, fmt.Errorf("decrypted payloads (wrong key?): %w", err)
	}
	return ps, append([]byte(nil), m.Encrypted[len(m.Encrypted)-p.cipher.BlockSize():]...), nil
}

func payloadBody(pl isakmp.Payload) []byte {
	b, _ := pl.AppendBody(nil)
	return b
}

// NewInitiator starts a phase 1 and returns the first datagram.
func NewInitiator(cfg *Phase1Config, local, remote netip.AddrPort) (*Phase1, []byte, error) {
	if len(cfg.Proposals) == 0 {
		return nil, nil, fmt.Errorf("ike: no usable phase-1 proposal")
	}
	p := &Phase1{Cfg: cfg, Initiator: true, Mode: cfg.Mode, Local: local, Remote: remote, ICookie: randomCookie(), Started: time.Now()}
	sa := Phase1SA(cfg.Proposals)
	p.sai = payloadBody(sa)
	ps := []isakmp.Payload{sa}
	if cfg.Mode == isakmp.ExchangeAggressive {
		g := cfg.Proposals[0].Group
		for _, o := range cfg.Proposals {
			if o.Group != g {
				return nil, nil, fmt.Errorf("ike: aggressive mode needs one DH group in every proposal")
			}
		}
		grp, err := GroupByID(g)
		if err != nil {
			return nil, nil, err
		}
		if p.dh, err = NewDH(grp); err != nil {
			return nil, nil, err
		}
		p.gxi = p.dh.Public
		p.ni = nonce(cfg.NonceSize)
		p.idi = payloadBody(cfg.MyID)
		ps = append(ps, &isakmp.KE{Data: p.gxi}, &isakmp.Nonce{Data: p.ni}, cfg.MyID)
		p.State = P1AggrSent1
	} else {
		p.State = P1SentSA
	}
	ps = append(ps, p.vendorIDs()...)
	out, err := p.plain(p.header(cfg.Mode, 0, 0), ps...)
	if err != nil {
		return nil, nil, err
	}
	p.LastSent = out
	return p, out, nil
}

func (p *Phase1) vendorIDs() []isakmp.Payload {
	var ps []isakmp.Payload
	for _, v := range p.Cfg.VendorIDs {
		ps = append(ps, &isakmp.VendorID{Data: v})
	}
	if p.Cfg.NATT {
		ps = append(ps, &isakmp.VendorID{Data: VendorRFC3947})
	}
	return ps
}

// NewResponder creates the responder's side from the peer's first message
// (cookies not yet known to the caller) and returns the reply.
func NewResponder(cfg *Phase1Config, local, remote netip.AddrPort, raw []byte) (*Phase1, []byte, error) {
	m, err := isakmp.Parse(raw)
	if err != nil {
		return nil, nil, err
	}
	if m.Header.Encrypted() || m.Header.ResponderCookie != ([8]byte{}) || m.Header.MessageID != 0 {
		return nil, nil, fmt.Errorf("not a first phase-1 message")
	}
	if m.Header.ExchangeType != cfg.Mode {
		return nil, nil, fmt.Errorf("peer uses %s mode, this remote allows %s", m.Header.ExchangeType, cfg.Mode)
	}
	p := &Phase1{Cfg: cfg, Mode: cfg.Mode, Local: local, Remote: remote, ICookie: m.Header.InitiatorCookie, RCookie: randomCookie(), Started: time.Now()}
	out, err := p.handle(m, raw)
	if err != nil {
		p.State = P1Failed
		return p, nil, err
	}
	return p, out, nil
}

// Handle processes one datagram of this phase 1 and returns the datagram
// to send (nil if none). ErrRetransmit asks the caller to resend LastSent.
func (p *Phase1) Handle(raw []byte) ([]byte, error) {
	if p.recv != nil && bytes.Equal(raw, p.recv) {
		return nil, ErrRetransmit
	}
	m, err := isakmp.Parse(raw)
	if err != nil {
		return nil, err
	}
	if m.Header.InitiatorCookie != p.ICookie {
		return nil, fmt.Errorf("initiator cookie mismatch")
	}
	if p.Initiator && p.RCookie == ([8]byte{}) {
		if m.Header.ResponderCookie == ([8]byte{}) {
			return nil, fmt.Errorf("reply without a responder cookie")
		}
		p.RCookie = m.Header.ResponderCookie
	} else if m.Header.ResponderCookie != p.RCookie {
		return nil, fmt.Errorf("responder cookie mismatch")
	}
	if m.Header.ExchangeType != p.Mode {
		return nil, fmt.Errorf("%s message during %s mode phase 1", m.Header.ExchangeType, p.Mode)
	}
	out, err := p.handle(m, raw)
	if err != nil {
		return nil, err
	}
	return out, nil
}

type payloads []isakmp.Payload

func (ps payloads) get(t isakmp.PayloadType) isakmp.Payload {
	for _, x := range ps {
		if x.PayloadType() == t {
			return x
		}
	}
	return nil
}

func (ps payloads) all(t isakmp.PayloadType) []isakmp.Payload {
	var out []isakmp.Payload
	for _, x := range ps {
		if x.PayloadType() == t {
			out = append(out, x)
		}
	}
	return out
}

func (p *Phase1) need(ps payloads, ts ...isakmp.PayloadType) error {
	for _, t := range ts {
		if ps.get(t) == nil {
			return fmt.Errorf("%s mode message without a %s payload (state %s)", p.Mode, t, p.State)
		}
	}
	return nil
}

func (p *Phase1) noteVendorIDs(ps payloads) {
	for _, v := range ps.all(isakmp.PayloadVendorID) {
		if bytes.Equal(v.(*isakmp.VendorID).Data, VendorRFC3947) {
			p.NATTPeer = true
		}
	}
}

func (p *Phase1) noteNotifies(ps payloads) {
	for _, n := range ps.all(isakmp.PayloadNotification) {
		if n.(*isakmp.Notification).Type == isakmp.InitialContact {
			p.InitialContact = true
		}
	}
}

func (p *Phase1) setAlgorithms(c Proposal1) error {
	var err error
	if c.Auth != isakmp.AuthPreShared {
		return fmt.Errorf("authentication method %d is not implemented (pre-shared keys only)", c.Auth)
	}
	if p.prf, err = NewPRF(c.Hash); err != nil {
		return err
	}
	if p.cipher, err = NewCipher(c.Enc, c.KeyBits); err != nil {
		return err
	}
	p.Chosen = c
	return nil
}

// computeKeys derives SKEYID and the rest once both KE and nonces are known.
func (p *Phase1) computeKeys(peerPub []byte, peerID *isakmp.ID) error {
	gxy, err := p.dh.Shared(peerPub)
	if err != nil {
		return err
	}
	defer clear(gxy)
	key, err := p.Cfg.PSK(peerID)
	if err != nil {
		return fmt.Errorf("pre-shared key: %w", err)
	}
	skeyid := SKEYIDPSK(p.prf, key, p.ni, p.nr)
	defer clear(skeyid)
	p.Keys = DeriveKeys(p.prf, p.cipher, skeyid, gxy, p.ICookie, p.RCookie)
	p.iv = Phase1IV(p.prf, p.cipher, p.gxi, p.gxr)
	p.dh.Wipe()
	return nil
}

func (p *Phase1) hashI() []byte {
	return HashI(p.prf, p.Keys.SKEYID, p.gxi, p.gxr, p.ICookie, p.RCookie, p.sai, p.idi)
}

func (p *Phase1) hashR() []byte {
	return HashR(p.prf, p.Keys.SKEYID, p.gxi, p.gxr, p.ICookie, p.RCookie, p.sai, p.idr)
}

func (p *Phase1) checkID(id *isakmp.ID) error {
	p.PeerID = id
	if p.Cfg.CheckPeerID != nil {
		return p.Cfg.CheckPeerID(id)
	}
	return nil
}

func (p *Phase1) established() {
	p.State = P1Established
	p.Created = time.Now()
	p.p2iv = map[uint32][]byte{}
	p.msgIDs = map[uint32]bool{}
}

// handle is the state machine proper.
func (p *Phase1) handle(m *isakmp.Message, raw []byte) ([]byte, error) {
	var ps payloads = m.Payloads
	old := p.iv
	if m.Header.Encrypted() {
		var next []byte
		var err error
		ps, next, err = p.decrypt(m, p.iv)
		if err != nil {
			return nil, err
		}
		p.iv = next
	}
	out, err := p.step(m, ps)
	if err != nil {
		p.iv = old
		return nil, err
	}
	p.recv = append([]byte(nil), raw...)
	if out != nil {
		p.LastSent = out
	}
	return out, nil
}

func (p *Phase1) step(m *isakmp.Message, ps payloads) ([]byte, error) {
	p.noteVendorIDs(ps)
	p.noteNotifies(ps)
	switch {
	// ---- main mode, responder
	case !p.Initiator && p.State == P1Start && p.Mode == isakmp.ExchangeIdentityProt:
		if err := p.need(ps, isakmp.PayloadSA); err != nil {
			return nil, err
		}
		sa := ps.get(isakmp.PayloadSA).(*isakmp.SA)
		c, reply, err := SelectPhase1(sa, p.Cfg.Proposals)
		if err != nil {
			return nil, err
		}
		if err := p.setAlgorithms(c); err != nil {
			return nil, err
		}
		p.sai = payloadBody(sa)
		out, err := p.plain(p.header(p.Mode, 0, 0), append([]isakmp.Payload{reply}, p.vendorIDs()...)...)
		if err != nil {
			return nil, err
		}
		p.State = P1SentSAReply
		return out, nil
	case !p.Initiator && p.State == P1SentSAReply:
		if err := p.need(ps, isakmp.PayloadKE, isakmp.PayloadNonce); err != nil {
			return nil, err
		}
		if err := p.makeDH(); err != nil {
			return nil, err
		}
		p.gxi = ps.get(isakmp.PayloadKE).(*isakmp.KE).Data
		p.ni = ps.get(isakmp.PayloadNonce).(*isakmp.Nonce).Data
		p.gxr = p.dh.Public
		p.nr = nonce(p.Cfg.NonceSize)
		if err := p.computeKeys(p.gxi, nil); err != nil {
			return nil, err
		}
		reply := []isakmp.Payload{&isakmp.KE{Data: p.gxr}, &isakmp.Nonce{Data: p.nr}}
		reply = append(reply, p.natd(ps)...)
		out, err := p.plain(p.header(p.Mode, 0, 0), reply...)
		if err != nil {
			return nil, err
		}
		p.State = P1SentKEReply
		return out, nil
	case !p.Initiator && p.State == P1SentKEReply:
		if !m.Header.Encrypted() {
			return nil, fmt.Errorf("main mode message 5 is not encrypted")
		}
		if err := p.need(ps, isakmp.PayloadID, isakmp.PayloadHash); err != nil {
			return nil, err
		}
		id := ps.get(isakmp.PayloadID).(*isakmp.ID)
		p.idi = payloadBody(id)
		if !hmac.Equal(ps.get(isakmp.PayloadHash).(*isakmp.Hash).Data, p.hashI()) {
			return nil, ErrAuth
		}
		if err := p.checkID(id); err != nil {
			return nil, err
		}
		p.idr = payloadBody(p.Cfg.MyID)
		// message 5's last block (now p.iv) is the IV of message 6
		out, next, err := p.encrypt(p.header(p.Mode, 0, 0), p.iv, p.Cfg.MyID, &isakmp.Hash{Data: p.hashR()})
		if err != nil {
			return nil, err
		}
		p.established()
		p.iv = next
		return out, nil
	// ---- main mode, initiator
	case p.Initiator && p.State == P1SentSA:
		if err := p.need(ps, isakmp.PayloadSA); err != nil {
			return nil, err
		}
		c, err := p.checkReplySA(ps.get(isakmp.PayloadSA).(*isakmp.SA))
		if err != nil {
			return nil, err
		}
		if err := p.setAlgorithms(c); err != nil {
			return nil, err
		}
		if err := p.makeDH(); err != nil {
			return nil, err
		}
		p.gxi = p.dh.Public
		p.ni = nonce(p.Cfg.NonceSize)
		reply := []isakmp.Payload{&isakmp.KE{Data: p.gxi}, &isakmp.Nonce{Data: p.ni}}
		if p.Cfg.NATT && p.NATTPeer {
			reply = append(reply, p.natdPayloads()...)
		}
		out, err := p.plain(p.header(p.Mode, 0, 0), reply...)
		if err != nil {
			return nil, err
		}
		p.State = P1SentKE
		return out, nil
	case p.Initiator && p.State == P1SentKE:
		if err := p.need(ps, isakmp.PayloadKE, isakmp.PayloadNonce); err != nil {
			return nil, err
		}
		p.gxr = ps.get(isakmp.PayloadKE).(*isakmp.KE).Data
		p.nr = ps.get(isakmp.PayloadNonce).(*isakmp.Nonce).Data
		p.checkNATD(ps)
		if err := p.computeKeys(p.gxr, nil); err != nil {
			return nil, err
		}
		p.idi = payloadBody(p.Cfg.MyID)
		out, next, err := p.encrypt(p.header(p.Mode, 0, 0), p.iv, p.Cfg.MyID, &isakmp.Hash{Data: p.hashI()})
		if err != nil {
			return nil, err
		}
		p.iv = next
		p.State = P1SentAuth
		return out, nil
	case p.Initiator && p.State == P1SentAuth:
		if !m.Header.Encrypted() {
			return nil, fmt.Errorf("main mode message 6 is not encrypted")
		}
		if err := p.need(ps, isakmp.PayloadID, isakmp.PayloadHash); err != nil {
			return nil, err
		}
		id := ps.get(isakmp.PayloadID).(*isakmp.ID)
		p.idr = payloadBody(id)
		if !hmac.Equal(ps.get(isakmp.PayloadHash).(*isakmp.Hash).Data, p.hashR()) {
			return nil, ErrAuth
		}
		if err := p.checkID(id); err != nil {
			return nil, err
		}
		p.established()
		return nil, nil
	// ---- aggressive mode, responder
	case !p.Initiator && p.State == P1Start && p.Mode == isakmp.ExchangeAggressive:
		if err := p.need(ps, isakmp.PayloadSA, isakmp.PayloadKE, isakmp.PayloadNonce, isakmp.PayloadID); err != nil {
			return nil, err
		}
		sa := ps.get(isakmp.PayloadSA).(*isakmp.SA)
		c, reply, err := SelectPhase1(sa, p.Cfg.Proposals)
		if err != nil {
			return nil, err
		}
		if err := p.setAlgorithms(c); err != nil {
			return nil, err
		}
		p.sai = payloadBody(sa)
		id := ps.get(isakmp.PayloadID).(*isakmp.ID)
		if err := p.checkID(id); err != nil {
			return nil, err
		}
		p.idi = payloadBody(id)
		if err := p.makeDH(); err != nil {
			return nil, err
		}
		p.gxi = ps.get(isakmp.PayloadKE).(*isakmp.KE).Data
		p.ni = ps.get(isakmp.PayloadNonce).(*isakmp.Nonce).Data
		p.gxr = p.dh.Public
		p.nr = nonce(p.Cfg.NonceSize)
		if err := p.computeKeys(p.gxi, id); err != nil {
			return nil, err
		}
		p.idr = payloadBody(p.Cfg.MyID)
		out := []isakmp.Payload{reply, &isakmp.KE{Data: p.gxr}, &isakmp.Nonce{Data: p.nr}, p.Cfg.MyID, &isakmp.Hash{Data: p.hashR()}}
		out = append(out, p.vendorIDs()...)
		out = append(out, p.natd(ps)...)
		b, err := p.plain(p.header(p.Mode, 0, 0), out...)
		if err != nil {
			return nil, err
		}
		p.State = P1AggrSent2
		return b, nil
	case !p.Initiator && p.State == P1AggrSent2:
		if err := p.need(ps, isakmp.PayloadHash); err != nil {
			return nil, err
		}
		if !hmac.Equal(ps.get(isakmp.PayloadHash).(*isakmp.Hash).Data, p.hashI()) {
			return nil, ErrAuth
		}
		p.checkNATD(ps)
		p.established()
		return nil, nil
	// ---- aggressive mode, initiator
	case p.Initiator && p.State == P1AggrSent1:
		if err := p.need(ps, isakmp.PayloadSA, isakmp.PayloadKE, isakmp.PayloadNonce, isakmp.PayloadID, isakmp.PayloadHash); err != nil {
			return nil, err
		}
		c, err := p.checkReplySA(ps.get(isakmp.PayloadSA).(*isakmp.SA))
		if err != nil {
			return nil, err
		}
		if err := p.setAlgorithms(c); err != nil {
			return nil, err
		}
		id := ps.get(isakmp.PayloadID).(*isakmp.ID)
		p.idr = payloadBody(id)
		p.gxr = ps.get(isakmp.PayloadKE).(*isakmp.KE).Data
		p.nr = ps.get(isakmp.PayloadNonce).(*isakmp.Nonce).Data
		if err := p.computeKeys(p.gxr, id); err != nil {
			return nil, err
		}
		if !hmac.Equal(ps.get(isakmp.PayloadHash).(*isakmp.Hash).Data, p.hashR()) {
			return nil, ErrAuth
		}
		if err := p.checkID(id); err != nil {
			return nil, err
		}
		p.checkNATD(ps)
		reply := []isakmp.Payload{&isakmp.Hash{Data: p.hashI()}}
		if p.Cfg.NATT && p.NATTPeer {
			reply = append(reply, p.natdPayloads()...)
		}
		// racoon sends the third message in the clear
		out, err := p.plain(p.header(p.Mode, 0, 0), reply...)
		if err != nil {
			return nil, err
		}
		p.established()
		return out, nil
	}
	return nil, fmt.Errorf("unexpected %s mode message in state %s", p.Mode, p.State)
}

// ErrAuth is a HASH_I or HASH_R that does not verify (wrong pre-shared key?).
var ErrAuth = errors.New("HASH mismatch: authentication failed (wrong pre-shared key?)")

func (p *Phase1) makeDH() error {
	g, err := GroupByID(p.Chosen.Group)
	if err != nil {
		return err
	}
	p.dh, err = NewDH(g)
	return err
}

// checkReplySA checks that the responder chose one of our transforms.
func (p *Phase1) checkReplySA(sa *isakmp.SA) (Proposal1, error) {
	if len(sa.Proposals) != 1 || len(sa.Proposals[0].Transforms) != 1 {
		return Proposal1{}, fmt.Errorf("the responder's SA must hold one proposal with one transform")
	}
	c, err := ParseTransform1(&sa.Proposals[0].Transforms[0])
	if err != nil {
		return Proposal1{}, err
	}
	for _, o := range p.Cfg.Proposals {
		if o.same(c) {
			if c.Lifetime == 0 || c.Lifetime > o.Lifetime {
				c.Lifetime = o.Lifetime
			}
			return c, nil
		}
	}
	return Proposal1{}, fmt.Errorf("the responder chose a transform we did not offer (%s)", c)
}

// nextMsgID is a fresh random message ID for phase 2 or informational.
func (p *Phase1) nextMsgID() uint32 {
	for {
		var b [4]byte
		rand.Read(b[:])
		mid := binary.BigEndian.Uint32(b[:])
		if mid != 0 && !p.msgIDs[mid] {
			p.msgIDs[mid] = true
			return mid
		}
	}
}

// phase2IV returns the current IV of exchange mid (computing the first one).
func (p *Phase1) phase2IV(mid uint32) []byte {
	if iv, ok := p.p2iv[mid]; ok {
		return iv
	}
	return Phase2IV(p.prf, p.cipher, p.iv, mid)
}

// String describes the SA without any key, IV or nonce (also for %v/%+v).
func (p *Phase1) String() string {
	side := "responder"
	if p.Initiator {
		side = "initiator"
	}
	return fmt.Sprintf("ISAKMP-SA %x:%x %s %s mode %s-%s state %s (%s)", p.ICookie, p.RCookie, side, p.Mode, p.Local, p.Remote, p.State, p.Chosen)
}

// GoString is String (for %#v).
func (p *Phase1) GoString() string { return p.String() }

// GoString is String (for %#v).
func (k *Phase1Keys) GoString() string { return k.String() }
