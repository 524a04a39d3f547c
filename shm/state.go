package shm

import "fmt"

// State is the state of a slot; see the package documentation.
type State uint8

// Slot states.
const (
	StateFree    State = 0 // unused
	StateWriting State = 1 // the CXTP module is filling a request (transient)
	StateRequest State = 2 // committed request for the context module
	StateWorking State = 3 // the context module is performing it (transient)
	StateDone    State = 4 // committed result for the CXTP module
	stateCount         = 5
)

func (s State) String() string {
	switch s {
	case StateFree:
		return "FREE"
	case StateWriting:
		return "WRITING"
	case StateRequest:
		return "REQUEST"
	case StateWorking:
		return "WORKING"
	case StateDone:
		return "DONE"
	}
	return fmt.Sprintf("STATE(%d)", uint8(s))
}

// committed reports whether the slot's committed copy is meaningful and
// stable in this state.
func (s State) committed() bool { return s == StateRequest || s == StateDone }

// owner is the role that writes a slot in a transient state.
func (s State) owner() (Role, bool) {
	switch s {
	case StateWriting:
		return RoleCXTP, true
	case StateWorking:
		return RoleContext, true
	}
	return 0, false
}

// ctl is the decoded 64-bit control word of a slot.
type ctl struct {
	state  State
	copy   int    // committed copy, 0 or 1
	commit uint16 // low 16 bits of the committed copy's sequence
	gen    uint32 // generation
}

const ctlReservedMask = 0xFE00 // bits 9..15

func (c ctl) word() uint64 {
	return uint64(c.state) | uint64(c.copy&1)<<8 | uint64(c.commit)<<16 | uint64(c.gen)<<32
}

func decodeCtl(w uint64) (ctl, error) {
	c := ctl{state: State(w & 0xff), copy: int(w>>8) & 1, commit: uint16(w >> 16), gen: uint32(w >> 32)}
	if w&ctlReservedMask != 0 {
		return c, fmt.Errorf("control word %#016x: reserved bits set", w)
	}
	if c.state >= stateCount {
		return c, fmt.Errorf("control word %#016x: invalid state %d", w, uint8(c.state))
	}
	return c, nil
}

// next is the control word after a transition to state st; flip moves the
// committed copy to the other one, which is being committed with the new
// generation as its sequence.
func (c ctl) next(st State, flip bool) ctl {
	n := ctl{state: st, copy: c.copy, commit: c.commit, gen: c.gen + 1}
	if flip {
		n.copy ^= 1
		n.commit = uint16(n.gen)
	}
	return n
}

// matches reports whether a record sequence is the one this control word
// committed.
func (c ctl) matches(seq uint32) bool { return uint16(seq) == c.commit }
