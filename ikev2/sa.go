package ikev2

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/ikectx/ikectx/ikev2/crypto"
	"github.com/ikectx/ikectx/ikev2/msg"
)

// State of an IKE SA.
type State int

// IKE SA states.
const (
	StateConnecting State = iota
	StateEstablished
	StateDeleting
	StateDead
)

func (s State) String() string {
	return [...]string{"CONNECTING", "ESTABLISHED", "DELETING", "DEAD"}[s]
}

// ChildSA is one pair of ESP SAs.
type ChildSA struct {
	Name      string
	Protocol  msg.ProtocolID
	SPIIn     uint32
	SPIOut    uint32
	ReqID     uint32
	Transport bool
	Proposal  msg.Proposal
	Encr      crypto.Encr
	Integ     crypto.Integ
	ESN       bool
	// Keys: the only holder of the child key bytes.
	EncIn, IntegIn, EncOut, IntegOut []byte
	LocalTS, RemoteTS                []msg.Selector
	Created                          time.Time
	Lifetime                         time.Duration
	// Rekeyed is set when a newer child replaced this one and it only
	// waits for deletion.
	Rekeyed  bool
	rekeying bool // a rekey of this child is queued or in flight
	// Collisions (RFC 7296 2.8.1, 2.25.1; rekeycollide.go): our rekey in
	// flight, the peer's rekey of this child answered meanwhile, our
	// Delete of it in flight, and gone once it left the kernel and the SA.
	active   *childTask
	passive  *passiveRekey
	deleting bool
	gone     bool
	// deadline: a replaced child the peer should delete is deleted by
	// us after it (the peer may have dropped it silently).
	deadline time.Time
	jitter   uint16 // of the rekey time, see lifetimes
}

// Wipe zeroes the child's keys.
func (c *ChildSA) Wipe() {
	for _, b := range [][]byte{c.EncIn, c.IntegIn, c.EncOut, c.IntegOut} {
		clear(b)
	}
}

func (c *ChildSA) String() string {
	return fmt.Sprintf("%s ESP in 0x%08x out 0x%08x %s", c.Name, c.SPIIn, c.SPIOut, ProposalString(c.Proposal))
}

// IKESA is one IKE SA with its children.
type IKESA struct {
	Conf      *Config
	Initiator bool // original initiator of this IKE SA
	SPIi      uint64
	SPIr      uint64
	State     State
	Proposal  msg.Proposal
	Suite     crypto.Suite
	Keys      *crypto.Keys
	SKEYSEED  []byte
	Ni, Nr    []byte
	Local     netip.AddrPort
	Remote    netip.AddrPort
	// NAT: the peer or we are behind a NAT (from NAT_DETECTION_*):
	// IKE moves to port 4500.
	NATLocal, NATRemote bool
	MOBIKE              bool // negotiated
	PeerID              Identity
	Created             time.Time
	Children            []*ChildSA

	out, in msg.Protector
	dh      crypto.DH
	initI   []byte // IKE_SA_INIT request as sent (AUTH)
	initR   []byte // IKE_SA_INIT response
	cookie  []byte

	nextID     uint32 // our next request's message ID
	expectID   uint32 // the peer's next request's message ID
	lastResp   []byte // our last response (for retransmitted requests)
	lastRespTo netip.AddrPort
	pending    *outstanding
	queue      []task
	rekeyedBy  *IKESA // set on an IKE SA replaced by a rekey
	rekeying   bool
	// Simultaneous IKE SA rekeys (RFC 7296 2.8.2, 2.25.2;
	// rekeycollide.go): our rekey in flight, the peer's rekey answered
	// meanwhile (its new SA waits in pendingOf until ours completes),
	// redundant for an SA the peer is expected to delete, deadline after
	// which we delete an SA the peer should have deleted.
	activeRekey *ikeRekeyTask
	passive     *passiveRekey
	pendingOf   *IKESA
	redundant   bool
	deadline    time.Time
	jitter      uint16 // of the rekey time, see lifetimes
	key         uint64 // the Manager's map key (our SPI, or a stand-in while an imported SPI collides)
	onDone      []func(error)
}

type outstanding struct {
	t       task
	id      uint32
	raw     []byte
	sent    time.Time
	tries   int
	to      netip.AddrPort
	from    netip.AddrPort
	request *msg.Message
}

// LocalSPI is our SPI of the IKE SA.
func (sa *IKESA) LocalSPI() uint64 {
	if sa.Initiator {
		return sa.SPIi
	}
	return sa.SPIr
}

func (sa *IKESA) String() string {
	return fmt.Sprintf("%s[%016x_i %016x_r] %v %v...%v", sa.Conf.Name, sa.SPIi, sa.SPIr, sa.State, sa.Local, sa.Remote)
}

func (sa *IKESA) wipe() {
	sa.Keys.Wipe()
	clear(sa.SKEYSEED)
	for _, c := range sa.Children {
		c.Wipe()
	}
}

func (sa *IKESA) child(spiIn uint32) *ChildSA {
	for _, c := range sa.Children {
		if c.SPIIn == spiIn {
			return c
		}
	}
	return nil
}

func (sa *IKESA) childByOut(spiOut uint32) *ChildSA {
	for _, c := range sa.Children {
		if c.SPIOut == spiOut {
			return c
		}
	}
	return nil
}

func (sa *IKESA) removeChild(c *ChildSA) {
	for i, x := range sa.Children {
		if x == c {
			sa.Children = append(sa.Children[:i], sa.Children[i+1:]...)
			return
		}
	}
}

// Kernel installs child SAs: PF_KEY on a host that has it, memory on one
// that does not (--no-kernel).
type Kernel interface {
	// AllocSPI reserves an inbound SPI for an SA from remote to local.
	AllocSPI(local, remote netip.Addr) (uint32, error)
	// Install adds both SAs of a child (inbound SPI already reserved)
	// and, for a new child, its policies.
	Install(sa *IKESA, c *ChildSA) error
	// Delete removes both SAs of a child (and its policies unless a
	// rekeyed child remains).
	Delete(sa *IKESA, c *ChildSA) error
	// Move changes the addresses of a child's SAs and policies (MOBIKE).
	Move(sa *IKESA, c *ChildSA, oldLocal, oldRemote netip.Addr) error
	// InUse reports whether an inbound SPI is taken (UPDATE_SPI).
	InUse(spi uint32, local netip.Addr) bool
}

// Reinstall is a Move for a Kernel that cannot change addresses in
// place: it deletes the child's SAs and policies at the old addresses
// (oldLocal and oldRemote with sa's ports) and installs them at sa's.
func Reinstall(k Kernel, sa *IKESA, c *ChildSA, oldLocal, oldRemote netip.Addr) error {
	cur := *sa
	cur.Local = netip.AddrPortFrom(oldLocal, sa.Local.Port())
	cur.Remote = netip.AddrPortFrom(oldRemote, sa.Remote.Port())
	if err := k.Delete(&cur, c); err != nil {
		return err
	}
	return k.Install(sa, c)
}

// MemKernel keeps SAs in memory (the --no-kernel mode).
type MemKernel struct {
	mu  sync.Mutex
	spi map[uint32]string // inbound SPI -> description
}

// NewMemKernel returns an empty in-memory kernel.
func NewMemKernel() *MemKernel { return &MemKernel{spi: map[uint32]string{}} }

// AllocSPI returns a random unused SPI >= 0x100.
func (k *MemKernel) AllocSPI(local, remote netip.Addr) (uint32, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return 0, err
		}
		s := binary.BigEndian.Uint32(b[:])
		if s < 0x100 {
			continue
		}
		if _, ok := k.spi[s]; !ok {
			k.spi[s] = "larval " + remote.String() + "->" + local.String()
			return s, nil
		}
	}
}

// Install records the child.
func (k *MemKernel) Install(sa *IKESA, c *ChildSA) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.spi[c.SPIIn] = c.String()
	return nil
}

// Delete forgets the child.
func (k *MemKernel) Delete(sa *IKESA, c *ChildSA) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.spi, c.SPIIn)
	return nil
}

// Move does nothing in memory.
func (k *MemKernel) Move(*IKESA, *ChildSA, netip.Addr, netip.Addr) error { return nil }

// InUse reports whether spi is allocated.
func (k *MemKernel) InUse(spi uint32, _ netip.Addr) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.spi[spi]
	return ok
}

// Reserve marks spi as used (tests of collisions).
func (k *MemKernel) Reserve(spi uint32, what string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.spi[spi] = what
}
