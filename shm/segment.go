package shm

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Errors callers can test with errors.Is.
var (
	ErrFull      = errors.New("no free slot")
	ErrClosed    = errors.New("segment closed")
	ErrRoleHeld  = errors.New("role held by a running process")
	ErrWrongRole = errors.New("operation not allowed for this role")
	ErrState     = errors.New("slot not in the required state")
	ErrCorrupt   = errors.New("slot corrupt")
	ErrGeometry  = errors.New("segment geometry mismatch")
)

// DefaultRescan is the period of the receiver's safety rescan.
const DefaultRescan = 200 * time.Millisecond

// Options tune Open. The zero value (or nil) is usable.
type Options struct {
	// Slots and MaxData give the geometry when the segment is created
	// (defaults DefaultSlots and DefaultMaxData). When attaching to an
	// existing segment, nonzero values must match it.
	Slots   int
	MaxData int
	// Rescan is the period at which Events rescans the table without a
	// signal: 0 means DefaultRescan, negative disables the rescan.
	Rescan time.Duration
	// InitTimeout bounds the wait for the creator to finish initializing
	// (default 2 s).
	InitTimeout time.Duration
	// Dir is the directory of the objects on Linux (default /dev/shm);
	// ignored on FreeBSD, where shm_open2 has its own namespace.
	Dir string
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Rescan == 0 {
		r.Rescan = DefaultRescan
	}
	if r.InitTimeout <= 0 {
		r.InitTimeout = 2 * time.Second
	}
	if r.Dir == "" {
		r.Dir = "/dev/shm"
	}
	return r
}

// SlotID is the index of a slot in the table.
type SlotID int

// Request is what the CXTP module asks of the context module.
type Request struct {
	Op   Op
	FPT  uint16
	MN   netip.Addr
	Tag  uint64
	Data []byte
}

// Segment is one process's attachment to the shared table, in one role.
// Its methods are safe for concurrent use.
type Segment struct {
	name string
	role Role
	opts Options
	geo  Geometry
	pid  uint32

	mu     sync.RWMutex // write-locked by Close only
	mem    []byte       // nil once closed
	sig    chan os.Signal
	events atomic.Bool
	done   chan struct{}
	wg     sync.WaitGroup
	next   atomic.Uint32 // where Post starts looking for a free slot
	stats  statCounters
}

// sinks keep each wake-up signal handled for the rest of the process's life
// once a segment was opened: a peer that read this PID just before Close
// unregistered it may still send a signal, and the default action of
// SIGUSR1/SIGUSR2 would kill the process. Signals sent to a full sink are
// dropped (package signal never blocks).
var sinks sync.Map // syscall.Signal -> chan os.Signal

func keepSignalHandled(sig syscall.Signal) {
	if _, loaded := sinks.LoadOrStore(sig, nil); loaded {
		return
	}
	c := make(chan os.Signal, 1)
	sinks.Store(sig, c)
	signal.Notify(c, sig)
}

// normName turns "name" or "/name" into "/name" and checks it.
func normName(name string) (string, error) {
	n := strings.TrimPrefix(name, "/")
	if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\x00") || len(n) > 250 {
		return "", fmt.Errorf("shm: invalid segment name %q (want /name, no other slashes)", name)
	}
	return "/" + n, nil
}

// Open creates or attaches to the segment name and registers this process
// in role. It installs the role's wake-up signal handler before publishing
// the PID, then recovers the transient slots of a dead predecessor, and
// finally wakes the peer so that it rescans the table.
func Open(name string, role Role, opts *Options) (*Segment, error) {
	if !role.valid() {
		return nil, fmt.Errorf("shm: open %s: invalid role %d", name, role)
	}
	nm, err := normName(name)
	if err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	s := &Segment{name: nm, role: role, opts: o, pid: uint32(os.Getpid()), done: make(chan struct{})}
	if err := s.attach(); err != nil {
		return nil, fmt.Errorf("shm: open %s: %w", nm, err)
	}
	keepSignalHandled(role.WakeSignal())
	s.sig = make(chan os.Signal, 1)
	signal.Notify(s.sig, role.WakeSignal())
	if err := s.register(); err != nil {
		signal.Stop(s.sig)
		unix.Munmap(s.mem)
		return nil, fmt.Errorf("shm: open %s as %s: %w", nm, role, err)
	}
	s.stats.recovered.Add(uint64(s.recoverSlots(true)))
	// A predecessor may have died between a publish and its signal:
	// the peer rescans when told that this module (re)started.
	s.Wake()
	return s, nil
}

// attach opens the object and maps it, initializing it if this process
// created it.
func (s *Segment) attach() error {
	want := Geometry{Slots: s.opts.Slots, MaxData: s.opts.MaxData}
	if want.Slots == 0 {
		want.Slots = DefaultSlots
	}
	if want.MaxData == 0 {
		want.MaxData = DefaultMaxData
	}
	if err := want.Validate(); err != nil {
		return err
	}
	fd, created, err := openObject(s.name, s.opts.Dir)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if created {
		if err := unix.Ftruncate(fd, int64(want.Size())); err != nil {
			unlinkObject(s.name, s.opts.Dir)
			return fmt.Errorf("ftruncate to %d bytes: %w", want.Size(), err)
		}
		mem, err := unix.Mmap(fd, 0, want.Size(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			unlinkObject(s.name, s.opts.Dir)
			return fmt.Errorf("mmap %d bytes: %w", want.Size(), err)
		}
		encodeStaticHeader(mem, want)
		u64at(mem, hMagic).Store(ne.Uint64([]byte(Magic)))
		s.mem, s.geo = mem, want
		return nil
	}
	deadline := time.Now().Add(s.opts.InitTimeout)
	for {
		h, err := readHeader(fd)
		if err == nil {
			g := h.Geometry
			if (s.opts.Slots != 0 && s.opts.Slots != g.Slots) || (s.opts.MaxData != 0 && s.opts.MaxData != g.MaxData) {
				return fmt.Errorf("%w: segment has %d slots of %d bytes, asked for %d of %d",
					ErrGeometry, g.Slots, g.MaxData, s.opts.Slots, s.opts.MaxData)
			}
			var st unix.Stat_t
			if err := unix.Fstat(fd, &st); err != nil {
				return fmt.Errorf("fstat: %w", err)
			}
			if st.Size < int64(g.Size()) {
				return fmt.Errorf("object is %d bytes, its header needs %d", st.Size, g.Size())
			}
			mem, err := unix.Mmap(fd, 0, g.Size(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
			if err != nil {
				return fmt.Errorf("mmap %d bytes: %w", g.Size(), err)
			}
			s.mem, s.geo = mem, g
			return nil
		}
		if !errors.Is(err, errNoMagic) && !errors.Is(err, errShort) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("creator did not finish initializing within %v (%v); remove the object", s.opts.InitTimeout, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var errShort = errors.New("object smaller than a header")

// readHeader maps the first page of the object and decodes its header.
func readHeader(fd int) (Header, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return Header{}, fmt.Errorf("fstat: %w", err)
	}
	if st.Size < HeaderSize {
		return Header{}, errShort
	}
	m, err := unix.Mmap(fd, 0, HeaderSize, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return Header{}, fmt.Errorf("mmap header: %w", err)
	}
	defer unix.Munmap(m)
	if u64at(m, hMagic).Load() == 0 {
		return Header{}, errNoMagic
	}
	var b [HeaderSize]byte
	copy(b[:], m)
	return DecodeHeader(b[:])
}

// register publishes this process's PID for its role.
func (s *Segment) register() error {
	p := u32at(s.mem, hPID+4*int(s.role))
	for {
		cur := p.Load()
		if cur == s.pid {
			return fmt.Errorf("%w: this process (%d) already opened it in this role", ErrRoleHeld, cur)
		}
		if cur != 0 && processAlive(cur) {
			return fmt.Errorf("%w: PID %d", ErrRoleHeld, cur)
		}
		if p.CompareAndSwap(cur, s.pid) {
			u32at(s.mem, hEpoch+4*int(s.role)).Add(1)
			return nil
		}
	}
}

// Close stops the receiver, unregisters the PID and unmaps the segment.
// The object stays; see Unlink.
func (s *Segment) Close() error {
	select {
	case <-s.done:
		return ErrClosed
	default:
	}
	close(s.done)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	u32at(s.mem, hPID+4*int(s.role)).CompareAndSwap(s.pid, 0)
	signal.Stop(s.sig)
	err := unix.Munmap(s.mem)
	s.mem = nil
	if err != nil {
		return fmt.Errorf("shm: close %s: munmap: %w", s.name, err)
	}
	return nil
}

// Unlink removes the segment's name (opts.Dir as for Open on Linux).
func Unlink(name string, opts *Options) error {
	nm, err := normName(name)
	if err != nil {
		return err
	}
	o := opts.withDefaults()
	if err := unlinkObject(nm, o.Dir); err != nil {
		return fmt.Errorf("shm: unlink %s: %w", nm, err)
	}
	return nil
}

// Name is the segment's name, with its leading slash.
func (s *Segment) Name() string { return s.name }

// Role is the role this process registered.
func (s *Segment) Role() Role { return s.role }

// Geometry is the segment's table shape.
func (s *Segment) Geometry() Geometry { return s.geo }

// lock takes the read lock and fails if the segment is closed.
func (s *Segment) lock() error {
	s.mu.RLock()
	if s.mem == nil {
		s.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

// Header returns the current header (PIDs, epochs, doorbells).
func (s *Segment) Header() (Header, error) {
	if err := s.lock(); err != nil {
		return Header{}, err
	}
	defer s.mu.RUnlock()
	var b [HeaderSize]byte
	copy(b[:hPID], s.mem[:hPID])
	for r := 0; r < 2; r++ {
		ne.PutUint32(b[hPID+4*r:], u32at(s.mem, hPID+4*r).Load())
		ne.PutUint32(b[hEpoch+4*r:], u32at(s.mem, hEpoch+4*r).Load())
		ne.PutUint64(b[hBell+8*r:], u64at(s.mem, hBell+8*r).Load())
	}
	return DecodeHeader(b[:])
}

// PeerPID is the registered PID of the other module, 0 if none.
func (s *Segment) PeerPID() int {
	if err := s.lock(); err != nil {
		return 0
	}
	defer s.mu.RUnlock()
	return int(u32at(s.mem, hPID+4*int(s.role.Peer())).Load())
}
