package ikev2

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/ikectx/ikectx/ikev2/msg"
)

func (m *Manager) byChild(spiIn uint32) (*IKESA, *ChildSA) {
	for _, sa := range m.sas {
		if c := sa.child(spiIn); c != nil {
			return sa, c
		}
	}
	return nil, nil
}

func (m *Manager) queue(spi uint64, t task) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	sa := m.sas[spi]
	if sa == nil || sa.State == StateDead {
		return fmt.Errorf("ikev2: no IKE SA with local SPI %016x", spi)
	}
	if _, del := t.(*deleteIKETask); !del {
		// An SA rekeyed meanwhile: its successor holds the children.
		sa = current(sa)
	}
	sa.queue = append(sa.queue, t)
	m.kick(sa)
	return nil
}

// RekeyChild rekeys the child with inbound SPI spiIn (CREATE_CHILD_SA with
// REKEY_SA, then INFORMATIONAL Delete of the old child).
func (m *Manager) RekeyChild(spiIn uint32, done func(error)) error {
	m.mu.Lock()
	sa, c := m.byChild(spiIn)
	m.mu.Unlock()
	if sa == nil {
		return fmt.Errorf("ikev2: no child SA with inbound SPI 0x%08x", spiIn)
	}
	return m.queue(sa.LocalSPI(), &childTask{old: c, done: done})
}

// CreateChild negotiates an additional child SA on an IKE SA.
func (m *Manager) CreateChild(spi uint64, done func(error)) error {
	return m.queue(spi, &childTask{done: done})
}

// RekeyIKE rekeys an IKE SA (CREATE_CHILD_SA with a new IKE proposal,
// then Delete of the old SA).
func (m *Manager) RekeyIKE(spi uint64, done func(error)) error {
	m.mu.Lock()
	sa := m.sas[spi]
	m.mu.Unlock()
	return m.queue(spi, &ikeRekeyTask{of: sa, done: done})
}

// Liveness sends an empty INFORMATIONAL request.
func (m *Manager) Liveness(spi uint64, done func(error)) error {
	return m.queue(spi, &dpdTask{done: done})
}

// Delete deletes an IKE SA and its children.
func (m *Manager) Delete(spi uint64) error { return m.queue(spi, &deleteIKETask{}) }

// DeleteChild deletes one child SA.
func (m *Manager) DeleteChild(spiIn uint32) error {
	m.mu.Lock()
	sa, c := m.byChild(spiIn)
	m.mu.Unlock()
	if sa == nil {
		return fmt.Errorf("ikev2: no child SA with inbound SPI 0x%08x", spiIn)
	}
	return m.queue(sa.LocalSPI(), &deleteChildTask{children: []*ChildSA{c}})
}

// Move sends UPDATE_SA_ADDRESSES (MOBIKE) from local to remote (either
// may be the zero value to keep it); updates, if any, ride in the same
// request as UPDATE_SPI notifications (paper section 3.2.4). With no
// address change and only updates, no UPDATE_SA_ADDRESSES is sent.
func (m *Manager) Move(spi uint64, local, remote netip.AddrPort, updates []msg.UpdateSPI, done func(error)) error {
	addr := local.IsValid() || remote.IsValid()
	return m.queue(spi, &mobikeTask{local: local, remote: remote, addresses: addr, updates: updates, done: done})
}

// ChildState is a child SA as the status command and ipsecmod see it.
type ChildState struct {
	Name      string
	Protocol  msg.ProtocolID
	SPIIn     uint32
	SPIOut    uint32
	ReqID     uint32
	Transport bool
	Encr      uint16
	KeyBits   int
	Integ     uint16
	ESN       bool
	Proposal  string
	LocalTS   []msg.Selector
	RemoteTS  []msg.Selector
	Created   time.Time
	Lifetime  time.Duration
	// With keys only (Export): the child's keys, for a peer that has no
	// SAD record of them.
	EncIn, IntegIn, EncOut, IntegOut []byte
}

// SAState is an IKE SA as the status command and ipsecmod see it: the
// paper's section 3.1 IKEv2 context (SPIs, algorithms, SKEYSEED and keys,
// nonces, lifetime, message IDs, the PAD entry) plus the children. Key
// fields are filled only by Export with keys.
type SAState struct {
	Name       string
	Initiator  bool
	SPIi, SPIr uint64
	State      string
	Local      netip.AddrPort
	Remote     netip.AddrPort
	NATLocal   bool
	NATRemote  bool
	MOBIKE     bool
	Encr       uint16
	KeyBits    int
	Integ      uint16
	PRF        uint16
	DH         uint16
	Proposal   string
	Lifetime   time.Duration
	Created    time.Time
	NextSendID uint32
	NextRecvID uint32
	LocalID    Identity
	PeerID     Identity
	AuthMethod uint8
	Children   []ChildState

	// With keys only.
	SKEYSEED, SKd, SKai, SKar, SKei, SKer, SKpi, SKpr, Ni, Nr, PSK []byte
}

// Wipe zeroes the key fields.
func (s *SAState) Wipe() {
	for _, b := range [][]byte{s.SKEYSEED, s.SKd, s.SKai, s.SKar, s.SKei, s.SKer, s.SKpi, s.SKpr, s.PSK} {
		clear(b)
	}
	for _, c := range s.Children {
		for _, b := range [][]byte{c.EncIn, c.IntegIn, c.EncOut, c.IntegOut} {
			clear(b)
		}
	}
}

func cp(b []byte) []byte { return append([]byte(nil), b...) }

func (m *Manager) state(sa *IKESA, keys bool) SAState {
	s := SAState{Name: sa.Conf.Name, Initiator: sa.Initiator, SPIi: sa.SPIi, SPIr: sa.SPIr, State: sa.State.String(),
		Local: sa.Local, Remote: sa.Remote, NATLocal: sa.NATLocal, NATRemote: sa.NATRemote, MOBIKE: sa.MOBIKE,
		Encr: sa.Suite.Encr.ID, KeyBits: sa.Suite.Encr.KeyBits, Integ: sa.Suite.Integ.ID, PRF: sa.Suite.PRF.ID, DH: sa.Suite.DH,
		Proposal: ProposalString(sa.Proposal), Lifetime: sa.Conf.IKELifetime, Created: sa.Created,
		NextSendID: sa.nextID, NextRecvID: sa.expectID, LocalID: sa.Conf.LocalID, PeerID: sa.PeerID, AuthMethod: msg.AuthMethodSharedKeyMIC}
	for _, c := range sa.Children {
		s.Children = append(s.Children, ChildState{Name: c.Name, Protocol: c.Protocol, SPIIn: c.SPIIn, SPIOut: c.SPIOut, ReqID: c.ReqID,
			Transport: c.Transport, Encr: c.Encr.ID, KeyBits: c.Encr.KeyBits, Integ: c.Integ.ID, ESN: c.ESN, Proposal: ProposalString(c.Proposal),
			LocalTS: c.LocalTS, RemoteTS: c.RemoteTS, Created: c.Created, Lifetime: c.Lifetime})
		if keys {
			cs := &s.Children[len(s.Children)-1]
			cs.EncIn, cs.IntegIn, cs.EncOut, cs.IntegOut = cp(c.EncIn), cp(c.IntegIn), cp(c.EncOut), cp(c.IntegOut)
		}
	}
	if keys && sa.Keys != nil {
		k := sa.Keys
		s.SKEYSEED, s.SKd, s.SKai, s.SKar, s.SKei, s.SKer, s.SKpi, s.SKpr = cp(sa.SKEYSEED), cp(k.SKd), cp(k.SKai), cp(k.SKar), cp(k.SKei), cp(k.SKer), cp(k.SKpi), cp(k.SKpr)
		s.Ni, s.Nr = cp(sa.Ni), cp(sa.Nr)
		s.PSK = cp(m.psk(sa.PeerID))
	}
	return s
}

// SAs lists the IKE SAs (without keys), oldest first.
func (m *Manager) SAs() []SAState {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	var out []SAState
	for _, sa := range m.sas {
		out = append(out, m.state(sa, false))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].SPIi < out[j].SPIi
	})
	return out
}

// Export returns one IKE SA with its keys (context transfer). The caller
// must Wipe the result.
func (m *Manager) Export(spi uint64) (SAState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	sa := m.sas[spi]
	if sa == nil {
		return SAState{}, fmt.Errorf("ikev2: no IKE SA with local SPI %016x", spi)
	}
	return m.state(sa, true), nil
}
