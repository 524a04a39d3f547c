package ikev2

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/ikectx/ikectx/ikev2/crypto"
	"github.com/ikectx/ikectx/ikev2/msg"
)

// IKE SA context transfer (paper section 3.1) and the SPI collision
// repair of section 3.2 (Algorithm 1).

// ErrSPICollision reports that an imported SA's SPI is taken here.
var ErrSPICollision = errors.New("SPI collision")

func ikeProposalOf(st *SAState) msg.Proposal {
	p := msg.Proposal{Num: 1, Protocol: msg.ProtoIKE}
	e := msg.Transform{Type: msg.TransENCR, ID: st.Encr}
	if st.KeyBits != 0 {
		e = e.WithKeyLength(st.KeyBits)
	}
	p.Transforms = append(p.Transforms, e)
	if st.Integ != 0 {
		p.Transforms = append(p.Transforms, msg.Transform{Type: msg.TransINTEG, ID: st.Integ})
	}
	p.Transforms = append(p.Transforms, msg.Transform{Type: msg.TransPRF, ID: st.PRF}, msg.Transform{Type: msg.TransDH, ID: st.DH})
	return p
}

func espProposalOf(c *ChildState) msg.Proposal {
	p := msg.Proposal{Num: 1, Protocol: msg.ProtoESP}
	e := msg.Transform{Type: msg.TransENCR, ID: c.Encr}
	if c.KeyBits != 0 {
		e = e.WithKeyLength(c.KeyBits)
	}
	p.Transforms = append(p.Transforms, e)
	if c.Integ != 0 {
		p.Transforms = append(p.Transforms, msg.Transform{Type: msg.TransINTEG, ID: c.Integ})
	}
	esn := msg.ESN_NO
	if c.ESN {
		esn = msg.ESN_YES
	}
	p.Transforms = append(p.Transforms, msg.Transform{Type: msg.TransESN, ID: esn})
	return p
}

func prefixesOf(ss []msg.Selector) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		bits := s.Start.BitLen()
		for b := 0; b <= bits; b++ {
			p := netip.PrefixFrom(s.Start, b).Masked()
			if p.Addr() == s.Start && msg.SelectorFromPrefix(p).End == s.End {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// Import installs a transferred IKE SA (an Export from another Manager)
// with local and remote as its new addresses (the zero value keeps the
// exported one). The connection is the one of the same name, or one
// built from the state; the PAD gains the state's entry if it has none.
// Children are registered as they are: their SAs are the kernel's
// business (ipsecmod installs them), and Import does not touch the
// kernel. When the IKE SA's local SPI is taken here, the SA is kept
// under a stand-in key and ErrSPICollision is returned with it: repair
// it with RepairSPIs.
func (m *Manager) Import(st SAState, local, remote netip.AddrPort) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	p := ikeProposalOf(&st)
	suite, err := crypto.SuiteFromProposal(p)
	if err != nil {
		return 0, fmt.Errorf("ikev2: import %s: %w", st.Name, err)
	}
	conf := m.Conn(st.Name)
	if conf == nil && st.Name == "" {
		// A context that does not name the connection (ipsecmod's
		// ikev2ctx record carries the PAD entry, not the name): the
		// connection for the peer's identity.
		conf = m.connFor(st.PeerID)
	}
	if conf == nil {
		conf = &Config{Name: st.Name, LocalID: st.LocalID, RemoteID: st.PeerID, IKEProposals: []msg.Proposal{p},
			IKELifetime: st.Lifetime, MOBIKE: st.MOBIKE, UpdateSPI: msg.DefaultUpdateSPI}
		if len(m.Conns) > 0 {
			conf.UpdateSPI = m.Conns[0].UpdateSPI
		}
		for i := range st.Children {
			c := &st.Children[i]
			conf.ESPProposals = append(conf.ESPProposals, espProposalOf(c))
			conf.LocalTS = append(conf.LocalTS, prefixesOf(c.LocalTS)...)
			conf.RemoteTS = append(conf.RemoteTS, prefixesOf(c.RemoteTS)...)
			conf.Transport = c.Transport
			conf.ChildLifetime = c.Lifetime
		}
		m.Conns = append(m.Conns, conf)
	}
	if m.psk(st.PeerID) == nil && len(st.PSK) > 0 {
		m.PAD = append(m.PAD, PADEntry{ID: st.PeerID, Method: "psk", PSK: cp(st.PSK)})
	}
	sa := &IKESA{Conf: conf, Initiator: st.Initiator, SPIi: st.SPIi, SPIr: st.SPIr, State: StateEstablished, Proposal: p, Suite: suite,
		Local: st.Local, Remote: st.Remote, NATLocal: st.NATLocal, NATRemote: st.NATRemote, MOBIKE: st.MOBIKE, PeerID: st.PeerID,
		Created: st.Created, Ni: cp(st.Ni), Nr: cp(st.Nr), SKEYSEED: cp(st.SKEYSEED), nextID: st.NextSendID, expectID: st.NextRecvID}
	if local.IsValid() {
		sa.Local = local
	}
	if remote.IsValid() {
		sa.Remote = remote
	}
	if len(st.SKd) > 0 {
		sa.Keys = &crypto.Keys{SKd: cp(st.SKd), SKai: cp(st.SKai), SKar: cp(st.SKar), SKei: cp(st.SKei), SKer: cp(st.SKer), SKpi: cp(st.SKpi), SKpr: cp(st.SKpr)}
	} else if len(st.SKEYSEED) > 0 {
		sa.Keys = suite.DeriveKeys(sa.SKEYSEED, sa.Ni, sa.Nr, sa.SPIi, sa.SPIr)
	} else {
		return 0, fmt.Errorf("ikev2: import %s: no keys", st.Name)
	}
	if sa.out, sa.in, err = suite.Protectors(sa.Keys, sa.Initiator); err != nil {
		return 0, fmt.Errorf("ikev2: import %s: %w", st.Name, err)
	}
	for i := range st.Children {
		c := &st.Children[i]
		name := c.Name
		if name == "" {
			name = conf.Name
		}
		ch := &ChildSA{Name: name, Protocol: c.Protocol, SPIIn: c.SPIIn, SPIOut: c.SPIOut, ReqID: c.ReqID, Transport: c.Transport,
			Proposal: espProposalOf(c), ESN: c.ESN, LocalTS: c.LocalTS, RemoteTS: c.RemoteTS, Created: c.Created, Lifetime: c.Lifetime,
			EncIn: cp(c.EncIn), IntegIn: cp(c.IntegIn), EncOut: cp(c.EncOut), IntegOut: cp(c.IntegOut)}
		ch.Encr, _ = crypto.LookupEncr(c.Encr, c.KeyBits)
		if c.Integ != 0 {
			ch.Integ, _ = crypto.LookupInteg(c.Integ)
		}
		sa.Children = append(sa.Children, ch)
	}
	key := sa.LocalSPI()
	if x := m.sas[key]; x != nil {
		stand := m.newSPI()
		m.register(sa, stand)
		m.emit(Event{Kind: "imported", SA: sa})
		return stand, fmt.Errorf("ikev2: import %s: IKE SPI %016x: %w", st.Name, key, ErrSPICollision)
	}
	m.register(sa, key)
	m.emit(Event{Kind: "imported", SA: sa})
	return key, nil
}

// RepairOptions are Algorithm 1's parameters.
type RepairOptions struct {
	// Local and Remote, when valid, are sent as the SA's new addresses
	// (UPDATE_SA_ADDRESSES) in the first request: after a transfer the
	// nAR's address and the MN's nCoA learnt from the CTAR.
	Local, Remote netip.AddrPort
	// MaxRoundTrips is MAX_ROUND_TRIPS (default 3); Timer is TIMER
	// (default 5 s).
	MaxRoundTrips int
	Timer         time.Duration
	// Collisions returns this end's inbound ESP SPIs of the SA that
	// collide on this node (under the SAD lookup rule in force) and
	// whether its IKE SPI does (in addition to the IKE SPI being held by
	// another SA here, which is always checked). Nil: no ESP SPI collides.
	Collisions func(SAState) (esp []uint32, ike bool)
	// Fallback, when set, is called instead of the default complete
	// renegotiation (delete the SA, initiate a new one to the peer).
	Fallback func(SAState)
}

// RepairResult is what Algorithm 1 did.
type RepairResult struct {
	RoundTrips int
	Updated    int  // UPDATE_SPI notifications sent (all applied unless Fallback)
	Fallback   bool // a complete IKEv2 negotiation was relaunched
	Err        error
}

type repair struct {
	m     *Manager
	key   uint64
	opt   RepairOptions
	start time.Time
	res   RepairResult
	done  func(RepairResult)
}

// RepairSPIs runs the paper's Algorithm 1 on the SA with Manager key
// spi (what Import returned): while some of its SPIs collide here, send
// one INFORMATIONAL request (with UPDATE_SA_ADDRESSES on the first round
// when addresses are given) carrying an UPDATE_SPI for every colliding
// SPI, new SPIs chosen free here (GETSPI); after MaxRoundTrips rounds or
// Timer, or at once when the peer does not acknowledge UPDATE_SPI (it
// does not implement it and changed nothing), relaunch a complete IKEv2
// negotiation. done is called once with the outcome.
func (m *Manager) RepairSPIs(spi uint64, opt RepairOptions, done func(RepairResult)) error {
	if opt.MaxRoundTrips <= 0 {
		opt.MaxRoundTrips = 3
	}
	if opt.Timer <= 0 {
		opt.Timer = 5 * time.Second
	}
	m.mu.Lock()
	m.init()
	sa := m.sas[spi]
	now := m.Now()
	m.mu.Unlock()
	if sa == nil {
		return fmt.Errorf("ikev2: no IKE SA with key %016x", spi)
	}
	r := &repair{m: m, key: spi, opt: opt, start: now, done: done}
	r.res.RoundTrips = 0
	m.mu.Lock()
	defer m.mu.Unlock()
	return r.round(sa)
}

func (r *repair) collisions(sa *IKESA) ([]uint32, bool) {
	ike := sa.key != sa.LocalSPI() && r.m.sas[sa.LocalSPI()] != nil
	if r.opt.Collisions != nil {
		esp, i := r.opt.Collisions(r.m.state(sa, false))
		return esp, ike || i
	}
	return nil, ike
}

// round runs with the Manager's lock held.
func (r *repair) round(sa *IKESA) error {
	m := r.m
	esp, ike := r.collisions(sa)
	first := r.res.RoundTrips == 0
	if len(esp) == 0 && !ike && !(first && (r.opt.Local.IsValid() || r.opt.Remote.IsValid())) {
		r.finish(nil)
		return nil
	}
	if r.res.RoundTrips >= r.opt.MaxRoundTrips || m.Now().Sub(r.start) > r.opt.Timer {
		r.fallback(sa, fmt.Errorf("ikev2: SPI collisions remain after %d round trips", r.res.RoundTrips))
		return nil
	}
	var ups []msg.UpdateSPI
	for _, s := range esp {
		c := sa.child(s)
		if c == nil {
			continue
		}
		nw, err := m.Kernel.AllocSPI(sa.Local.Addr(), sa.Remote.Addr())
		if err != nil {
			r.fallback(sa, err)
			return nil
		}
		ups = append(ups, msg.UpdateSPI{Protocol: c.Protocol, SPI: spiBytes(s), NewSPI: spiBytes(nw), Responder: !sa.Initiator})
	}
	if ike {
		nw := m.newSPI()
		old := sa.LocalSPI()
		ups = append(ups, msg.UpdateSPI{Protocol: msg.ProtoIKE, SPI: u64bytes(old), NewSPI: u64bytes(nw), Responder: !sa.Initiator})
	}
	t := &mobikeTask{updates: ups}
	if first && (r.opt.Local.IsValid() || r.opt.Remote.IsValid()) {
		t.addresses, t.local, t.remote = true, r.opt.Local, r.opt.Remote
	}
	r.res.RoundTrips++
	r.res.Updated += len(ups)
	t.done = func(err error) {
		// Called with the lock held, from the response's processing.
		if errors.Is(err, ErrUpdateSPIIgnored) {
			r.fallback(sa, err)
			return
		}
		if err != nil && !errors.Is(err, ErrUpdateSPIIgnored) && sa.State == StateDead {
			r.finish(err)
			return
		}
		r.round(sa)
	}
	sa.queue = append(sa.queue, t)
	m.kick(sa)
	return nil
}

func u64bytes(v uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(v >> (56 - 8*i))
	}
	return b
}

func (r *repair) finish(err error) {
	r.res.Err = err
	if r.done != nil {
		r.done(r.res)
		r.done = nil
	}
}

// fallback relaunches a complete IKEv2 negotiation with the peer: the SA
// is deleted (INFORMATIONAL Delete, then locally) and a new IKE SA with
// its first child is initiated from this end to the peer's address.
func (r *repair) fallback(sa *IKESA, cause error) {
	m := r.m
	r.res.Fallback = true
	if r.opt.Fallback != nil {
		st := m.state(sa, false)
		r.finish(cause)
		r.opt.Fallback(st)
		return
	}
	conf, local, remote := sa.Conf, sa.Local, sa.Remote
	if r.opt.Local.IsValid() {
		local = r.opt.Local
	}
	if r.opt.Remote.IsValid() {
		remote = r.opt.Remote
	}
	restart := func(error) {
		n := &IKESA{Conf: conf, Initiator: true, SPIi: m.newSPI(), Local: local, Remote: remote, Created: m.Now(), Ni: nonce()}
		n.onDone = append(n.onDone, func(err error) {
			if err != nil {
				r.finish(errors.Join(cause, err))
			} else {
				r.finish(nil)
			}
		})
		m.register(n, n.SPIi)
		n.queue = append(n.queue, &initTask{group: proposalDH(conf.IKEProposals[0])}, &authTask{})
		m.kick(n)
	}
	sa.queue = append(sa.queue, &deleteIKETask{done: restart})
	m.kick(sa)
}

// connFor is the first connection whose remote identity is id.
func (m *Manager) connFor(id Identity) *Config {
	for _, c := range m.Conns {
		if c.RemoteID.Equal(id) {
			return c
		}
	}
	return nil
}
