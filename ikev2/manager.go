package ikev2

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/ikectx/ikectx/ikev2/crypto"
	"github.com/ikectx/ikectx/ikev2/msg"
)

// Event reports what happened to an SA (for logs, status and tests).
type Event struct {
	Kind  string // "ike-up", "child-up", "child-rekeyed", "ike-rekeyed", "child-down", "ike-down", "moved", "spi-updated", "failed"
	SA    *IKESA
	Child *ChildSA
	Err   error
}

// Manager runs the IKE SAs of one daemon. It does no I/O of its own:
// datagrams come in through Handle and go out through Send; timers run
// from Tick. All methods are safe for concurrent use.
type Manager struct {
	Conns []*Config
	PAD   []PADEntry
	// Send transmits an IKE message from a local to a remote address;
	// the caller adds the non-ESP marker on port 4500.
	Send   func(b []byte, from, to netip.AddrPort)
	Kernel Kernel
	Log    func(format string, args ...any)
	Event  func(Event)
	Now    func() time.Time
	// Retransmission: the first after RetransmitBase, doubling, the SA
	// is given up after RetransmitTries sends.
	RetransmitBase  time.Duration
	RetransmitTries int
	// CookieThreshold: with this many half-open SAs or more, an
	// IKE_SA_INIT without a valid COOKIE is answered with one (RFC 7296
	// 2.6). Zero never asks; 1 always asks.
	CookieThreshold int
	// NATTPort is the port IKE moves to when a NAT is detected (4500).
	NATTPort uint16
	// RetryDelay: an exchange answered with TEMPORARY_FAILURE runs again
	// after this (plus up to half of it in jitter; default 2 s); after
	// TempFailureRetries (5) such answers the IKE SA is closed (RFC 7296
	// 2.25). DeleteWait (60 s): an old IKE SA or child the peer should
	// delete after its rekey is deleted by us after this (the redundant
	// one of a collision the peer lost, after 2 RetransmitBase).
	RetryDelay         time.Duration
	TempFailureRetries int
	DeleteWait         time.Duration

	mu       sync.Mutex
	sas      map[uint64]*IKESA
	halfOpen map[halfKey]*IKESA
	secret   [32]byte
	stats    RekeyStats
	retries  []*retryEntry
	nonces   func() []byte // tests choose the nonces
}

type halfKey struct {
	spii   uint64
	remote netip.AddrPort
}

// NewManager returns a Manager with defaults.
func NewManager(conns []*Config, pad []PADEntry, k Kernel, send func([]byte, netip.AddrPort, netip.AddrPort)) *Manager {
	m := &Manager{Conns: conns, PAD: pad, Kernel: k, Send: send, RetransmitBase: time.Second, RetransmitTries: 5}
	return m
}

func (m *Manager) init() {
	if m.sas == nil {
		m.sas = map[uint64]*IKESA{}
		m.halfOpen = map[halfKey]*IKESA{}
		rand.Read(m.secret[:])
		if m.Now == nil {
			m.Now = time.Now
		}
		if m.Log == nil {
			m.Log = func(string, ...any) {}
		}
		if m.RetransmitBase == 0 {
			m.RetransmitBase = time.Second
		}
		if m.NATTPort == 0 {
			m.NATTPort = 4500
		}
		if m.RetransmitTries == 0 {
			m.RetransmitTries = 5
		}
		if m.RetryDelay == 0 {
			m.RetryDelay = 2 * time.Second
		}
		if m.TempFailureRetries == 0 {
			m.TempFailureRetries = 5
		}
		if m.DeleteWait == 0 {
			m.DeleteWait = time.Minute
		}
	}
}

func (m *Manager) emit(e Event) {
	if e.Err != nil {
		m.Log("ikev2: %s %v: %v", e.Kind, e.SA, e.Err)
	} else if e.Child != nil {
		m.Log("ikev2: %s %v: %v", e.Kind, e.SA, e.Child)
	} else {
		m.Log("ikev2: %s %v", e.Kind, e.SA)
	}
	if m.Event != nil {
		m.Event(e)
	}
}

func randSPI() uint64 {
	var b [8]byte
	for {
		rand.Read(b[:])
		if v := binary.BigEndian.Uint64(b[:]); v != 0 {
			return v
		}
	}
}

func (m *Manager) newSPI() uint64 {
	for {
		s := randSPI()
		if _, ok := m.sas[s]; !ok {
			return s
		}
	}
}

// randJitter is a random fraction (of 65536) of the rekey jitter.
func randJitter() uint16 {
	var b [2]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint16(b[:])
}

func nonce() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

// Conn returns the connection named name.
func (m *Manager) Conn(name string) *Config {
	for _, c := range m.Conns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (m *Manager) psk(id Identity) []byte {
	for _, p := range m.PAD {
		if p.ID.Equal(id) {
			return p.PSK
		}
	}
	return nil
}

// Initiate starts an IKE SA (with its first child) for the connection
// from local to remote. done, if not nil, is called (with the Manager's
// lock held) when IKE_AUTH completes or fails.
func (m *Manager) Initiate(name string, local, remote netip.AddrPort, done func(error)) (*IKESA, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	c := m.Conn(name)
	if c == nil {
		return nil, fmt.Errorf("ikev2: no connection %q", name)
	}
	if m.psk(c.RemoteID) == nil {
		return nil, fmt.Errorf("ikev2: connection %q: no PAD entry for %v", name, c.RemoteID)
	}
	sa := &IKESA{Conf: c, Initiator: true, SPIi: m.newSPI(), Local: local, Remote: remote, Created: m.Now(), Ni: m.nonce()}
	if done != nil {
		sa.onDone = append(sa.onDone, done)
	}
	m.register(sa, sa.SPIi)
	sa.queue = append(sa.queue, &initTask{group: proposalDH(c.IKEProposals[0])}, &authTask{})
	m.kick(sa)
	return sa, nil
}

// kick sends the next queued request if none is outstanding.
func (m *Manager) kick(sa *IKESA) {
	for sa.pending == nil && len(sa.queue) > 0 && sa.State != StateDead {
		t := sa.queue[0]
		sa.queue = sa.queue[1:]
		if err := m.sendRequest(sa, t, sa.nextID); err != nil {
			if !errors.Is(err, errSkip) {
				t.fail(m, sa, err)
			}
			continue
		}
	}
}

func (m *Manager) sendRequest(sa *IKESA, t task, id uint32) error {
	ps, err := t.build(m, sa)
	if err != nil {
		return err
	}
	req := &msg.Message{Header: msg.Header{SPIi: sa.SPIi, SPIr: sa.SPIr, Exchange: t.exchange(), MessageID: id}, Payloads: ps}
	if sa.Initiator {
		req.Flags |= msg.FlagInitiator
	}
	var raw []byte
	if t.exchange() == msg.IKE_SA_INIT {
		raw = req.Marshal()
		sa.initI = raw
	} else if raw, err = req.MarshalEncrypted(sa.out); err != nil {
		return err
	}
	sa.pending = &outstanding{t: t, id: id, raw: raw, sent: m.Now(), tries: 1, to: sa.Remote, from: sa.Local, request: req}
	m.Send(raw, sa.Local, sa.Remote)
	return nil
}

// Tick retransmits requests and gives up on dead peers.
func (m *Manager) Tick() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	now := m.Now()
	for _, sa := range m.sas {
		p := sa.pending
		if p == nil {
			continue
		}
		wait := m.RetransmitBase << (p.tries - 1)
		if now.Sub(p.sent) < wait {
			continue
		}
		if p.tries >= m.RetransmitTries {
			err := fmt.Errorf("ikev2: %v request %d: no response after %d transmissions", p.t.exchange(), p.id, p.tries)
			sa.pending = nil
			p.t.fail(m, sa, err)
			m.kill(sa, err)
			continue
		}
		p.tries++
		p.sent = now
		m.Send(p.raw, p.from, p.to)
	}
	m.lifetimes(now)
	m.runRetries(now)
	m.deadlines(now)
	for k, sa := range m.halfOpen {
		if sa.State != StateConnecting || now.Sub(sa.Created) > 30*time.Second {
			delete(m.halfOpen, k)
			if sa.State == StateConnecting {
				m.kill(sa, errors.New("ikev2: half-open SA timed out"))
			}
		}
	}
}

func (m *Manager) register(sa *IKESA, key uint64) {
	sa.key = key
	sa.jitter = randJitter()
	m.sas[key] = sa
}

// lookup finds the SA of a message: by our SPI, or, when that SA's SPI
// pair differs (an imported SA whose SPI collided here), by the pair.
func (m *Manager) lookup(ours, spii, spir uint64) *IKESA {
	if sa := m.sas[ours]; sa != nil && sa.SPIi == spii && (sa.SPIr == spir || spir == 0) {
		return sa
	}
	for _, sa := range m.sas {
		if sa.SPIi == spii && sa.SPIr == spir {
			return sa
		}
	}
	return m.sas[ours]
}

// lifetimes rekeys SAs at nine tenths of their lifetime (the original
// initiator only, so that both ends do not rekey at once; the responder
// rekeys at the full lifetime if the initiator has not), each earlier by a
// random part of up to 1/20 of it (RFC 7296 2.8.1: jittered, against
// simultaneous rekeys), and deletes children that outlive theirs by half
// again.
func (m *Manager) lifetimes(now time.Time) {
	for _, sa := range m.sas {
		if sa.State != StateEstablished || sa.rekeyedBy != nil || sa.redundant || sa.pendingOf != nil {
			continue
		}
		soft := func(d time.Duration, jitter uint16) time.Duration {
			j := d / 20 * time.Duration(jitter) / 65536
			if sa.Initiator {
				return d*9/10 - j
			}
			return d - j
		}
		for _, c := range sa.Children {
			if c.Lifetime <= 0 || c.Rekeyed {
				continue
			}
			age := now.Sub(c.Created)
			if age >= c.Lifetime*3/2 {
				sa.queue = append(sa.queue, &deleteChildTask{children: []*ChildSA{c}})
				c.Rekeyed = true
				continue
			}
			if !c.rekeying && age >= soft(c.Lifetime, c.jitter) {
				c.rekeying = true
				sa.queue = append(sa.queue, &childTask{old: c})
			}
		}
		if l := sa.Conf.IKELifetime; l > 0 && !sa.rekeying && now.Sub(sa.Created) >= soft(l, sa.jitter) {
			sa.rekeying = true
			sa.queue = append(sa.queue, &ikeRekeyTask{of: sa})
		}
		m.kick(sa)
	}
}

// kill removes an IKE SA and its children.
func (m *Manager) kill(sa *IKESA, err error) {
	if sa.State == StateDead {
		return
	}
	sa.State = StateDead
	// Exchanges that will never run: tell their callers.
	gone := errors.New("ikev2: IKE SA deleted")
	if err != nil {
		gone = fmt.Errorf("ikev2: IKE SA deleted: %w", err)
	}
	tasks := sa.queue
	sa.queue = nil
	if sa.pending != nil {
		tasks = append([]task{sa.pending.t}, tasks...)
		sa.pending = nil
	}
	for _, t := range tasks {
		t.fail(m, sa, gone)
	}
	// A collision left undecided: the peer's new SA goes with the old.
	if o := sa.pendingOf; o != nil && o.passive != nil && o.passive.sa == sa {
		o.passive = nil
	}
	if p := sa.passive; p != nil {
		sa.passive = nil
		m.kill(p.sa, err)
	}
	for _, c := range sa.Children {
		if !c.gone {
			c.gone = true
			m.Kernel.Delete(sa, c)
			m.emit(Event{Kind: "child-down", SA: sa, Child: c})
		}
	}
	if m.sas[sa.key] == sa {
		delete(m.sas, sa.key)
	}
	for _, f := range sa.onDone {
		f(err)
	}
	sa.onDone = nil
	if err != nil {
		m.emit(Event{Kind: "failed", SA: sa, Err: err})
	}
	m.emit(Event{Kind: "ike-down", SA: sa})
	sa.wipe()
}

// Handle processes one received IKE message (without the non-ESP marker)
// that arrived from remote at local.
func (m *Manager) Handle(b []byte, local, remote netip.AddrPort) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	if err := m.handle(b, local, remote); err != nil {
		m.Log("ikev2: from %v: %v", remote, err)
	}
}

func (m *Manager) handle(b []byte, local, remote netip.AddrPort) error {
	in, err := msg.Parse(b)
	if err != nil {
		return err
	}
	if in.Exchange == msg.IKE_SA_INIT && !in.IsResponse() {
		return m.respondInit(in, b, local, remote)
	}
	spi := in.SPIr
	if !in.IsInitiator() {
		spi = in.SPIi
	}
	sa := m.lookup(spi, in.SPIi, in.SPIr)
	if sa == nil {
		return fmt.Errorf("%v: unknown IKE SA %016x_i %016x_r", in.Exchange, in.SPIi, in.SPIr)
	}
	if in.IsResponse() {
		p := sa.pending
		if p == nil || p.id != in.MessageID || p.t.exchange() != in.Exchange {
			return fmt.Errorf("%v response %d: no such request outstanding", in.Exchange, in.MessageID)
		}
		if in.Exchange != msg.IKE_SA_INIT {
			if err := in.Decrypt(b, sa.in); err != nil {
				return err
			}
		} else {
			sa.initR = b
		}
		sa.pending = nil
		sa.nextID = p.id + 1 // before process: it may queue the next request
		err := p.t.process(m, sa, in)
		if errors.Is(err, errRestart) {
			sa.nextID = p.id
			return m.sendRequest(sa, p.t, p.id)
		}
		if err != nil {
			p.t.fail(m, sa, err)
		}
		m.kick(sa)
		return err
	}
	// A request from the peer.
	if in.MessageID+1 == sa.expectID && sa.lastResp != nil {
		m.Send(sa.lastResp, local, remote)
		return nil
	}
	if in.MessageID != sa.expectID {
		return fmt.Errorf("%v request %d: expected message ID %d", in.Exchange, in.MessageID, sa.expectID)
	}
	if sa.in == nil {
		return fmt.Errorf("%v request on an SA without keys", in.Exchange)
	}
	if err := in.Decrypt(b, sa.in); err != nil {
		return err
	}
	var resp []msg.Payload
	var after func()
	switch in.Exchange {
	case msg.IKE_AUTH:
		resp, after, err = m.respondAuth(sa, in, b, local, remote)
	case msg.CREATE_CHILD_SA:
		resp, after, err = m.respondCreateChild(sa, in)
	case msg.INFORMATIONAL:
		resp, after, err = m.respondInformational(sa, in, local, remote)
	default:
		err = fmt.Errorf("%v: unsupported exchange", in.Exchange)
		resp = []msg.Payload{&msg.Notify{NotType: msg.INVALID_SYNTAX}}
	}
	if err != nil && resp == nil {
		return err
	}
	out := &msg.Message{Header: msg.Header{SPIi: sa.SPIi, SPIr: sa.SPIr, Exchange: in.Exchange, MessageID: in.MessageID, Flags: msg.FlagResponse}, Payloads: resp}
	if sa.Initiator {
		out.Flags |= msg.FlagInitiator
	}
	raw, merr := out.MarshalEncrypted(sa.out)
	if merr != nil {
		return merr
	}
	sa.expectID++
	sa.lastResp = raw
	sa.lastRespTo = remote
	m.Send(raw, local, remote)
	if after != nil {
		after()
	}
	m.kick(sa)
	return err
}

// natHash is the NAT_DETECTION_* data: SHA1(SPIi | SPIr | IP | port).
func natHash(spii, spir uint64, ap netip.AddrPort) []byte {
	h := sha1.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], spii)
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], spir)
	h.Write(b[:])
	h.Write(ap.Addr().Unmap().AsSlice())
	binary.BigEndian.PutUint16(b[:2], ap.Port())
	h.Write(b[:2])
	return h.Sum(nil)
}

func natNotifies(spii, spir uint64, local, remote netip.AddrPort) []msg.Payload {
	return []msg.Payload{
		&msg.Notify{NotType: msg.NAT_DETECTION_SOURCE_IP, Data: natHash(spii, spir, local)},
		&msg.Notify{NotType: msg.NAT_DETECTION_DESTINATION_IP, Data: natHash(spii, spir, remote)},
	}
}

// checkNAT evaluates received NAT_DETECTION_* notifies; local and remote
// are the addresses the message was received on and from.
func (sa *IKESA) checkNAT(in *msg.Message, local, remote netip.AddrPort, spir uint64) {
	srcs := in.Notifies(msg.NAT_DETECTION_SOURCE_IP)
	dst := in.Notify(msg.NAT_DETECTION_DESTINATION_IP)
	if len(srcs) == 0 || dst == nil {
		return
	}
	sa.NATLocal = subtle.ConstantTimeCompare(dst.Data, natHash(sa.SPIi, spir, local)) != 1
	want := natHash(sa.SPIi, spir, remote)
	sa.NATRemote = true
	for _, s := range srcs {
		if subtle.ConstantTimeCompare(s.Data, want) == 1 {
			sa.NATRemote = false
		}
	}
}

// NAT reports whether a NAT was detected on either side.
func (sa *IKESA) NAT() bool { return sa.NATLocal || sa.NATRemote }

func (m *Manager) cookieFor(in *msg.Message, ni []byte, remote netip.AddrPort) []byte {
	h := sha256.New()
	h.Write(ni)
	h.Write(remote.Addr().AsSlice())
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], in.SPIi)
	h.Write(b[:])
	h.Write(m.secret[:])
	return append([]byte{1}, h.Sum(nil)[:16]...)
}

// findConn picks the connection for a new IKE SA from its addresses.
func (m *Manager) findConn(local, remote netip.Addr) *Config {
	for _, c := range m.Conns {
		if c.LocalAddr.IsValid() && !c.LocalAddr.IsUnspecified() && c.LocalAddr != local.Unmap() {
			continue
		}
		if c.RemoteAddr.IsValid() && !c.RemoteAddr.IsUnspecified() && c.RemoteAddr != remote.Unmap() {
			continue
		}
		return c
	}
	return nil
}

func (m *Manager) respondInit(in *msg.Message, raw []byte, local, remote netip.AddrPort) error {
	if in.SPIr != 0 || in.MessageID != 0 {
		return errors.New("IKE_SA_INIT request with responder SPI or message ID set")
	}
	hk := halfKey{in.SPIi, remote}
	if sa := m.halfOpen[hk]; sa != nil && sa.initR != nil {
		m.Send(sa.initR, local, remote)
		return nil
	}
	sendClear := func(ps ...msg.Payload) {
		out := &msg.Message{Header: msg.Header{SPIi: in.SPIi, Exchange: msg.IKE_SA_INIT, Flags: msg.FlagResponse}, Payloads: ps}
		m.Send(out.Marshal(), local, remote)
	}
	ni := msg.Get[*msg.Nonce](in)
	sap := msg.Get[*msg.SA](in)
	ke := msg.Get[*msg.KE](in)
	if ni == nil || sap == nil || ke == nil {
		sendClear(&msg.Notify{NotType: msg.INVALID_SYNTAX})
		return errors.New("IKE_SA_INIT request without SA, KE or Nonce")
	}
	if m.CookieThreshold > 0 && len(m.halfOpen) >= m.CookieThreshold {
		want := m.cookieFor(in, ni.Data, remote)
		c := in.Notify(msg.COOKIE)
		if c == nil || subtle.ConstantTimeCompare(c.Data, want) != 1 {
			sendClear(&msg.Notify{NotType: msg.COOKIE, Data: want})
			return nil
		}
	}
	conf := m.findConn(local.Addr(), remote.Addr())
	if conf == nil {
		sendClear(&msg.Notify{NotType: msg.NO_PROPOSAL_CHOSEN})
		return fmt.Errorf("IKE_SA_INIT: no connection for %v...%v", local, remote)
	}
	chosen, ok := selectProposal(sap.Proposals, conf.IKEProposals)
	if !ok {
		sendClear(&msg.Notify{NotType: msg.NO_PROPOSAL_CHOSEN})
		return fmt.Errorf("IKE_SA_INIT: connection %s: no acceptable proposal", conf.Name)
	}
	chosen.SPI = nil
	group := proposalDH(chosen)
	if ke.Group != group {
		sendClear(&msg.Notify{NotType: msg.INVALID_KE_PAYLOAD, Data: binary.BigEndian.AppendUint16(nil, group)})
		return nil
	}
	suite, err := crypto.SuiteFromProposal(chosen)
	if err != nil {
		sendClear(&msg.Notify{NotType: msg.NO_PROPOSAL_CHOSEN})
		return err
	}
	dh, err := crypto.NewDH(group)
	if err != nil {
		return err
	}
	shared, err := dh.Shared(ke.Data)
	if err != nil {
		sendClear(&msg.Notify{NotType: msg.INVALID_SYNTAX})
		return err
	}
	sa := &IKESA{Conf: conf, SPIi: in.SPIi, SPIr: m.newSPI(), Local: local, Remote: remote, Created: m.Now(),
		Proposal: chosen, Suite: suite, Ni: append([]byte(nil), ni.Data...), Nr: m.nonce(), initI: raw, expectID: 1}
	sa.checkNAT(in, local, remote, 0) // the request's hashes have SPIr 0
	sa.SKEYSEED = suite.SKEYSEED(sa.Ni, sa.Nr, shared)
	clear(shared)
	sa.Keys = suite.DeriveKeys(sa.SKEYSEED, sa.Ni, sa.Nr, sa.SPIi, sa.SPIr)
	if sa.out, sa.in, err = suite.Protectors(sa.Keys, false); err != nil {
		return err
	}
	ps := []msg.Payload{&msg.SA{Proposals: []msg.Proposal{chosen}}, &msg.KE{Group: group, Data: dh.Public()}, &msg.Nonce{Data: sa.Nr}}
	ps = append(ps, natNotifies(sa.SPIi, sa.SPIr, local, remote)...)
	out := &msg.Message{Header: msg.Header{SPIi: sa.SPIi, SPIr: sa.SPIr, Exchange: msg.IKE_SA_INIT, Flags: msg.FlagResponse}, Payloads: ps}
	sa.initR = out.Marshal()
	m.register(sa, sa.SPIr)
	m.halfOpen[hk] = sa
	m.Send(sa.initR, local, remote)
	return nil
}
