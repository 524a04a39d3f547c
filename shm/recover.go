package shm

import (
	"syscall"
)

// processAlive reports whether pid exists (kill(pid, 0); EPERM means it
// exists but belongs to someone else) and has not exited (a zombie waiting
// to be reaped is dead for the segment).
func processAlive(pid uint32) bool {
	if pid == 0 || pid > 1<<30 {
		return false
	}
	err := syscall.Kill(int(pid), 0)
	if err != nil && err != syscall.EPERM {
		return false
	}
	return !isZombie(pid)
}

// recoverSlots rolls back the transient slots of a dead module: a WRITING
// slot is freed, a WORKING slot goes back to REQUEST with its committed
// request. With own set (right after registering) it also recovers the
// slots of this role, which can only be left by a dead predecessor since
// this process has not claimed anything yet. Caller must not hold s.mu
// write-locked; it takes the read lock. It returns the number of slots
// recovered.
func (s *Segment) recoverSlots(own bool) int {
	if err := s.lock(); err != nil {
		return 0
	}
	defer s.mu.RUnlock()
	return s.recoverLocked(own)
}

func (s *Segment) recoverLocked(own bool) int {
	peer := s.role.Peer()
	peerEpoch := u32at(s.mem, hEpoch+4*int(peer)).Load()
	peerPID := u32at(s.mem, hPID+4*int(peer)).Load()
	peerDead := -1 // unknown yet; checked at most once per pass
	n := 0
	for i := 0; i < s.geo.Slots; i++ {
		id := SlotID(i)
		p := s.ctlAt(id)
		w := p.Load()
		c, err := decodeCtl(w)
		if err != nil {
			continue
		}
		r, transient := c.state.owner()
		if !transient {
			continue
		}
		switch {
		case r == s.role && own:
		case r == peer:
			if peerDead < 0 {
				peerDead = 0
				if !processAlive(peerPID) {
					peerDead = 1
				}
			}
			if peerDead == 0 {
				continue
			}
			// A peer that registered since the check owns its
			// slots again (it recovers its predecessor's itself).
			if u32at(s.mem, hEpoch+4*int(peer)).Load() != peerEpoch {
				return n
			}
		default:
			continue
		}
		back := c.next(StateFree, false)
		if c.state == StateWorking {
			// The committed copy is the request, untouched since
			// its commit: back to REQUEST, same copy, new generation.
			back = c.next(StateRequest, false)
		}
		if p.CompareAndSwap(w, back.word()) {
			n++
		}
	}
	return n
}
