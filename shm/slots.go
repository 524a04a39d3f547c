package shm

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
)

// testHookBeforePublish, set only by tests, runs after a writer filled the
// uncommitted copy and before it publishes it: the crash tests use it to
// tear the copy and die there.
var testHookBeforePublish func(area []byte)

func (s *Segment) ctlAt(id SlotID) *atomic.Uint64 { return u64at(s.mem, s.geo.slotOff(int(id))+sCtl) }

func (s *Segment) record(id SlotID, c int) []byte {
	off := s.geo.recordOff(int(id), c)
	return s.mem[off : off+s.geo.RecordSize()]
}

func (s *Segment) checkID(id SlotID) error {
	if id < 0 || int(id) >= s.geo.Slots {
		return fmt.Errorf("shm %s: slot %d out of range 0..%d", s.name, id, s.geo.Slots-1)
	}
	return nil
}

func (s *Segment) loadCtl(id SlotID) (ctl, uint64, error) {
	w := s.ctlAt(id).Load()
	c, err := decodeCtl(w)
	if err != nil {
		return c, w, fmt.Errorf("shm %s: slot %d: %w: %v", s.name, id, ErrCorrupt, err)
	}
	return c, w, nil
}

// Post publishes a request in a free slot without waking the context
// module (see Wake). Only the CXTP module posts.
func (s *Segment) Post(req Request) (SlotID, error) {
	if err := s.lock(); err != nil {
		return -1, err
	}
	defer s.mu.RUnlock()
	if s.role != RoleCXTP {
		return -1, fmt.Errorf("shm %s: post: %w (%s)", s.name, ErrWrongRole, s.role)
	}
	if req.Op == 0 {
		return -1, fmt.Errorf("shm %s: post: operation 0 is invalid", s.name)
	}
	if len(req.Data) > s.geo.MaxData {
		return -1, fmt.Errorf("shm %s: post: %d data bytes, a slot holds at most %d", s.name, len(req.Data), s.geo.MaxData)
	}
	n := s.geo.Slots
	start := int((s.next.Add(1) - 1) % uint32(n))
	for k := 0; k < n; k++ {
		id := SlotID((start + k) % n)
		p := s.ctlAt(id)
		w := p.Load()
		c, err := decodeCtl(w)
		if err != nil || c.state != StateFree {
			continue
		}
		claimed := c.next(StateWriting, false)
		if !p.CompareAndSwap(w, claimed.word()) {
			continue
		}
		u32at(s.mem, s.geo.slotOff(int(id))+sOwner).Store(s.pid)
		pub := claimed.next(StateRequest, true)
		r := Record{Seq: pub.gen, Op: req.Op, FPT: req.FPT, MN: req.MN, Tag: req.Tag, Data: req.Data}
		if err := encodeRecord(s.record(id, pub.copy), &r, s.geo.MaxData); err != nil {
			p.CompareAndSwap(claimed.word(), claimed.next(StateFree, false).word())
			return -1, fmt.Errorf("shm %s: post: %v", s.name, err)
		}
		if testHookBeforePublish != nil {
			testHookBeforePublish(s.record(id, pub.copy))
		}
		if !p.CompareAndSwap(claimed.word(), pub.word()) {
			return -1, fmt.Errorf("shm %s: post: slot %d was taken from this process while writing (recovered as dead?)", s.name, id)
		}
		u64at(s.mem, hBell+8*int(RoleContext)).Add(1)
		return id, nil
	}
	return -1, fmt.Errorf("shm %s: post: %w (%d slots)", s.name, ErrFull, n)
}

// Submit is Post followed by Wake.
func (s *Segment) Submit(req Request) (SlotID, error) {
	id, err := s.Post(req)
	if err != nil {
		return id, err
	}
	return id, s.Wake()
}

// Wake sends the peer its wake-up signal (SIGUSR1 to the context module,
// SIGUSR2 to the CXTP module). A peer that is not registered or not running
// is not an error: it scans the table when it starts.
func (s *Segment) Wake() error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	return s.wakeLocked()
}

func (s *Segment) wakeLocked() error {
	pid := int(u32at(s.mem, hPID+4*int(s.role.Peer())).Load())
	if pid == 0 {
		return nil
	}
	err := syscall.Kill(pid, s.role.Peer().WakeSignal())
	if err != nil && err != syscall.ESRCH {
		return fmt.Errorf("shm %s: wake %s (PID %d): %w", s.name, s.role.Peer(), pid, err)
	}
	return nil
}

// Accept claims a REQUEST slot for the context module (REQUEST -> WORKING)
// and returns the request; answer it with Complete. A request that fails
// its checks is not handed out: Accept answers it itself with
// StatusCorrupt (and wakes the CXTP module) and returns an error wrapping
// ErrCorrupt. A request the CXTP module withdrew meanwhile gives ErrState.
func (s *Segment) Accept(id SlotID) (Record, error) {
	if err := s.lock(); err != nil {
		return Record{}, err
	}
	defer s.mu.RUnlock()
	if err := s.checkID(id); err != nil {
		return Record{}, err
	}
	if s.role != RoleContext {
		return Record{}, fmt.Errorf("shm %s: accept slot %d: %w (%s)", s.name, id, ErrWrongRole, s.role)
	}
	c, w, err := s.loadCtl(id)
	if err != nil {
		return Record{}, err
	}
	if c.state != StateRequest {
		return Record{}, fmt.Errorf("shm %s: accept slot %d: %w: %s, want REQUEST", s.name, id, ErrState, c.state)
	}
	claimed := c.next(StateWorking, false)
	if !s.ctlAt(id).CompareAndSwap(w, claimed.word()) {
		return Record{}, fmt.Errorf("shm %s: accept slot %d: %w: changed while claiming", s.name, id, ErrState)
	}
	u32at(s.mem, s.geo.slotOff(int(id))+sOwner).Store(s.pid)
	r, err := s.readCommitted(id, c)
	if err != nil {
		if rerr := s.reply(id, StatusCorrupt, nil); rerr != nil {
			return Record{}, errors.Join(err, rerr)
		}
		s.wakeLocked()
		return Record{}, err
	}
	return r, nil
}

// readCommitted reads the committed copy described by c (a REQUEST or DONE
// control word) and checks it.
func (s *Segment) readCommitted(id SlotID, c ctl) (Record, error) {
	r, err := decodeRecord(s.record(id, c.copy), s.geo.MaxData)
	if err != nil {
		return Record{}, fmt.Errorf("shm %s: slot %d (%s, generation %d): %w: %v", s.name, id, c.state, c.gen, ErrCorrupt, err)
	}
	if !c.matches(r.Seq) {
		return Record{}, fmt.Errorf("shm %s: slot %d (%s, generation %d): %w: record sequence %d, control word names %#04x", s.name, id, c.state, c.gen, ErrCorrupt, r.Seq, c.commit)
	}
	return r, nil
}

// Reply publishes the context module's result for a slot it accepted
// (WORKING -> DONE) without waking the CXTP module. The result keeps the
// request's operation, FPT, MN address and tag.
func (s *Segment) Reply(id SlotID, st Status, data []byte) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if err := s.checkID(id); err != nil {
		return err
	}
	if s.role != RoleContext {
		return fmt.Errorf("shm %s: complete slot %d: %w (%s)", s.name, id, ErrWrongRole, s.role)
	}
	return s.reply(id, st, data)
}

// reply is Reply with the read lock held and the arguments checked.
func (s *Segment) reply(id SlotID, st Status, data []byte) error {
	if len(data) > s.geo.MaxData {
		return fmt.Errorf("shm %s: complete slot %d: %d data bytes, a slot holds at most %d", s.name, id, len(data), s.geo.MaxData)
	}
	c, w, err := s.loadCtl(id)
	if err != nil {
		return err
	}
	if c.state != StateWorking {
		return fmt.Errorf("shm %s: complete slot %d: %w: %s, want WORKING", s.name, id, ErrState, c.state)
	}
	pub := c.next(StateDone, true)
	// The request's identifying fields, from its committed copy. They
	// are taken even if its checksum failed (StatusCorrupt answers).
	req := s.record(id, c.copy)
	r := Record{Seq: pub.gen, Op: Op(req[rOp]), FPT: ne.Uint16(req[rFPT:]), Status: st, Tag: ne.Uint64(req[rTag:]), Data: data}
	if q, err := decodeRecord(req, s.geo.MaxData); err == nil {
		r.MN = q.MN
	}
	if r.Op == 0 {
		r.Op = OpCapture // a corrupt request with no operation: any valid value
	}
	if err := encodeRecord(s.record(id, pub.copy), &r, s.geo.MaxData); err != nil {
		return fmt.Errorf("shm %s: complete slot %d: %v", s.name, id, err)
	}
	if testHookBeforePublish != nil {
		testHookBeforePublish(s.record(id, pub.copy))
	}
	if !s.ctlAt(id).CompareAndSwap(w, pub.word()) {
		return fmt.Errorf("shm %s: complete slot %d: taken from this process while writing (recovered as dead?)", s.name, id)
	}
	u64at(s.mem, hBell+8*int(RoleCXTP)).Add(1)
	return nil
}

// Complete is Reply followed by Wake.
func (s *Segment) Complete(id SlotID, st Status, data []byte) error {
	if err := s.Reply(id, st, data); err != nil {
		return err
	}
	return s.Wake()
}

// Result reads the result in a DONE slot (CXTP module).
func (s *Segment) Result(id SlotID) (Record, error) {
	if err := s.lock(); err != nil {
		return Record{}, err
	}
	defer s.mu.RUnlock()
	if err := s.checkID(id); err != nil {
		return Record{}, err
	}
	c, w, err := s.loadCtl(id)
	if err != nil {
		return Record{}, err
	}
	if c.state != StateDone {
		return Record{}, fmt.Errorf("shm %s: result of slot %d: %w: %s, want DONE", s.name, id, ErrState, c.state)
	}
	r, err := s.readCommitted(id, c)
	if s.ctlAt(id).Load() != w {
		return Record{}, fmt.Errorf("shm %s: result of slot %d: %w: changed while reading", s.name, id, ErrState)
	}
	return r, err
}

// Release frees a DONE slot once its result was read, or cancels a REQUEST
// the context module has not accepted. A slot being worked on cannot be
// released (ErrState): release it when its result arrives. Only the CXTP
// module releases; a corrupt DONE or REQUEST slot can be released too.
func (s *Segment) Release(id SlotID) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if err := s.checkID(id); err != nil {
		return err
	}
	if s.role != RoleCXTP {
		return fmt.Errorf("shm %s: release slot %d: %w (%s)", s.name, id, ErrWrongRole, s.role)
	}
	p := s.ctlAt(id)
	w := p.Load()
	c, err := decodeCtl(w)
	if err != nil {
		// A control word that is not ours to interpret: reset it so the
		// slot is usable again. Its contents were never trusted.
		if p.CompareAndSwap(w, ctl{state: StateFree, gen: uint32(w>>32) + 1}.word()) {
			return nil
		}
		return fmt.Errorf("shm %s: release slot %d: %w: changed while releasing", s.name, id, ErrState)
	}
	if c.state != StateDone && c.state != StateRequest {
		return fmt.Errorf("shm %s: release slot %d: %w: %s, want DONE or REQUEST", s.name, id, ErrState, c.state)
	}
	// Claim the slot (WRITING, owned by this process) while both copies are
	// wiped: contexts carry key material, which must not outlive its use in
	// a shared segment. A crash while wiping leaves a WRITING slot of a dead
	// CXTP module, which recovery frees as for any interrupted write.
	claimed := c.next(StateWriting, false)
	if !p.CompareAndSwap(w, claimed.word()) {
		return fmt.Errorf("shm %s: release slot %d: %w: changed while releasing", s.name, id, ErrState)
	}
	u32at(s.mem, s.geo.slotOff(int(id))+sOwner).Store(s.pid)
	clear(s.record(id, 0))
	clear(s.record(id, 1))
	if !p.CompareAndSwap(claimed.word(), claimed.next(StateFree, false).word()) {
		return fmt.Errorf("shm %s: release slot %d: %w: taken from this process while wiping (recovered as dead?)", s.name, id, ErrState)
	}
	return nil
}

// Slot inspects one slot (a consistent snapshot, retried if it changes
// while being read).
func (s *Segment) Slot(id SlotID) (SlotInfo, error) {
	if err := s.lock(); err != nil {
		return SlotInfo{}, err
	}
	defer s.mu.RUnlock()
	if err := s.checkID(id); err != nil {
		return SlotInfo{}, err
	}
	return s.inspect(id), nil
}

// inspect is a seqlock read of one slot; caller holds the read lock.
func (s *Segment) inspect(id SlotID) SlotInfo {
	off := s.geo.slotOff(int(id))
	for {
		w := s.ctlAt(id).Load()
		si := inspectSlot(id, w, u32at(s.mem, off+sOwner).Load(), u32at(s.mem, off+sRsvd).Load(),
			func(c int) []byte { return s.record(id, c) }, s.geo.MaxData)
		if s.ctlAt(id).Load() == w {
			return si
		}
	}
}

// Slots inspects every slot.
func (s *Segment) Slots() ([]SlotInfo, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	out := make([]SlotInfo, s.geo.Slots)
	for i := range out {
		out[i] = s.inspect(SlotID(i))
	}
	return out, nil
}
