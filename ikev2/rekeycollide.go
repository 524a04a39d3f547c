package ikev2

// Exchange collisions (RFC 7296 2.8.1, 2.8.2, 2.25): both ends rekeying the
// same child or IKE SA at once, a rekey crossing a Delete, TEMPORARY_FAILURE
// and its retry. The model is libcharon's: the rekey task this end started
// notices, when its response arrives, that the peer's rekey of the same SA
// was answered meanwhile (the passive rekey recorded on the SA); both
// completed, the exchange that holds the lowest of the four nonces made the
// redundant SA and its initiator deletes it; the other exchange's initiator
// deletes the old SA. A peer that completed its rekey before it saw ours
// answers ours with TEMPORARY_FAILURE (it is closing the old SA): then only
// its new SA exists and ours is dropped.

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/ikectx/ikectx/ikev2/msg"
)

// RekeyStats counts the collisions the engine resolved.
type RekeyStats struct {
	// ChildCollisions: simultaneous rekeys of one child (2.8.1),
	// resolved by the nonces or, when one end completed first, by its
	// TEMPORARY_FAILURE.
	ChildCollisions uint64
	// IKECollisions: simultaneous rekeys of one IKE SA (2.8.2).
	IKECollisions uint64
	// RekeyDeleteCollisions: a child rekey crossing a Delete of the same
	// child (2.25.1).
	RekeyDeleteCollisions uint64
	// DeleteCollisions: both ends deleting the same child at once (1.4.1).
	DeleteCollisions uint64
	// RedundantDeleted: redundant SAs (child or IKE) this end deleted as
	// the loser of a collision.
	RedundantDeleted uint64
	// TempFailuresSent and TempFailuresReceived: TEMPORARY_FAILURE
	// answers (2.25); Retries: exchanges run again after one.
	TempFailuresSent, TempFailuresReceived, Retries uint64
}

// Total is the number of collisions resolved.
func (s RekeyStats) Total() uint64 {
	return s.ChildCollisions + s.IKECollisions + s.RekeyDeleteCollisions + s.DeleteCollisions
}

func (s RekeyStats) String() string {
	return fmt.Sprintf("child %d, ike %d, rekey/delete %d, delete/delete %d, redundant deleted %d, TEMPORARY_FAILURE sent %d received %d, retries %d",
		s.ChildCollisions, s.IKECollisions, s.RekeyDeleteCollisions, s.DeleteCollisions, s.RedundantDeleted, s.TempFailuresSent, s.TempFailuresReceived, s.Retries)
}

// Stats returns the collision counters.
func (m *Manager) Stats() RekeyStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// passiveRekey is the peer's rekey of an SA, answered while our own rekey
// of it was in flight: the SA it made (a child, or an IKE SA waiting in
// pendingOf) and its two nonces.
type passiveRekey struct {
	child  *ChildSA
	sa     *IKESA
	nonces [][]byte
}

// lowestIn reports whether the lowest of the four nonces is one of mine
// (octet by octet, a nonce that is a prefix of another is the lower,
// RFC 7296 2.8.1): then my exchange made the redundant SA.
func lowestIn(mine, theirs [][]byte) bool {
	low, inMine := mine[0], true
	for _, n := range mine[1:] {
		if bytes.Compare(n, low) < 0 {
			low = n
		}
	}
	for _, n := range theirs {
		if bytes.Compare(n, low) < 0 {
			low, inMine = n, false
		}
	}
	return inMine
}

// errSkip: a queued task has nothing left to do (the SA it was for was
// rekeyed or deleted meanwhile); kick drops it without sending.
var errSkip = errors.New("skip")

// nonce returns a fresh nonce (tests may choose them).
func (m *Manager) nonce() []byte {
	if m.nonces != nil {
		return m.nonces()
	}
	return nonce()
}

// dropChild removes a child from the kernel and the SA and wipes its keys;
// a second call does nothing.
func (m *Manager) dropChild(sa *IKESA, c *ChildSA) {
	if c.gone {
		return
	}
	c.gone = true
	m.Kernel.Delete(sa, c)
	sa.removeChild(c)
	m.emit(Event{Kind: "child-down", SA: sa, Child: c})
	c.Wipe()
}

// front queues t before the other queued tasks (the Delete that ends a
// rekey must not wait behind later exchanges).
func (sa *IKESA) front(t task) { sa.queue = append([]task{t}, sa.queue...) }

// adopt makes n the successor of old: n inherits the children and the
// queued exchanges, old waits for its deletion (by us or the peer, at the
// latest after DeleteWait).
func (m *Manager) adopt(old, n *IKESA) {
	n.Children = append(n.Children, old.Children...)
	old.Children = nil
	n.queue = append(n.queue, old.queue...)
	old.queue = nil
	n.pendingOf = nil
	old.rekeyedBy = n
	old.State = StateDeleting
	old.deadline = m.Now().Add(m.DeleteWait)
	m.emit(Event{Kind: "ike-rekeyed", SA: n})
}

// concludeIKE ends our IKE SA rekey in favour of the peer's one answered
// meanwhile (the peer won, or it did not see the collision and answered
// ours with TEMPORARY_FAILURE or deleted the old SA).
func (m *Manager) concludeIKE(old *IKESA, t *ikeRekeyTask, why string) {
	p := old.passive
	old.passive = nil
	m.stats.IKECollisions++
	m.Log("ikev2: %v: simultaneous IKE SA rekey: %s, %v survives", old, why, p.sa)
	m.adopt(old, p.sa)
	m.kick(p.sa)
	t.finish(nil)
}

// concludeChild ends our child rekey in favour of the peer's one answered
// meanwhile; the peer deletes the old child (or did already).
func (m *Manager) concludeChild(sa *IKESA, t *childTask, why string) {
	p := t.old.passive
	t.old.passive = nil
	t.old.Rekeyed = true
	t.old.deadline = m.Now().Add(m.DeleteWait)
	m.stats.ChildCollisions++
	m.Log("ikev2: %v: simultaneous rekey of %v: %s, 0x%08x survives", sa, t.old, why, p.child.SPIIn)
	t.finish(nil)
}

// retryEntry is a task that got TEMPORARY_FAILURE and runs again at at.
type retryEntry struct {
	at time.Time
	sa *IKESA
	t  task
}

// retryLater schedules t again after RetryDelay (with up to half of it in
// jitter): RFC 7296 2.25 forbids an immediate retry. After
// TempFailureRetries answers the state is out of sync: the IKE SA is closed.
func (m *Manager) retryLater(sa *IKESA, t task, tries int) {
	if tries > m.TempFailureRetries {
		err := fmt.Errorf("ikev2: %v: TEMPORARY_FAILURE %d times, closing the IKE SA", t.exchange(), tries)
		t.fail(m, sa, err)
		sa.queue = append(sa.queue, &deleteIKETask{})
		return
	}
	var b [2]byte
	rand.Read(b[:])
	jitter := time.Duration(0)
	if half := m.RetryDelay / 2; half > 0 {
		jitter = time.Duration(binary.BigEndian.Uint16(b[:])) * half / 65536
	}
	at := m.Now().Add(m.RetryDelay + jitter)
	m.Log("ikev2: %v: %v answered TEMPORARY_FAILURE, retrying at %v", sa, t.exchange(), at.Format(time.TimeOnly))
	m.retries = append(m.retries, &retryEntry{at: at, sa: sa, t: t})
}

// current follows rekeys to the SA that now holds sa's children.
func current(sa *IKESA) *IKESA {
	for sa.rekeyedBy != nil {
		sa = sa.rekeyedBy
	}
	return sa
}

// runRetries queues the retries that are due on the SA now in charge.
func (m *Manager) runRetries(now time.Time) {
	keep := m.retries[:0]
	for _, r := range m.retries {
		if now.Before(r.at) {
			keep = append(keep, r)
			continue
		}
		sa := current(r.sa)
		if sa.State == StateDead {
			r.t.fail(m, sa, errors.New("ikev2: IKE SA deleted before the retry"))
			continue
		}
		m.stats.Retries++
		sa.queue = append(sa.queue, r.t)
		m.kick(sa)
	}
	clear(m.retries[len(keep):])
	m.retries = keep
}

// deadlines deletes SAs and children the peer should have deleted (the old
// one after the peer's rekey, the redundant one of a collision the peer
// lost).
func (m *Manager) deadlines(now time.Time) {
	for _, sa := range m.sas {
		for _, c := range sa.Children {
			if c.deadline.IsZero() || now.Before(c.deadline) || c.deleting || c.gone {
				continue
			}
			c.deadline = time.Time{}
			m.Log("ikev2: %v: the peer did not delete %v, deleting it", sa, c)
			sa.queue = append(sa.queue, &deleteChildTask{children: []*ChildSA{c}})
			m.kick(sa)
		}
		if sa.deadline.IsZero() || now.Before(sa.deadline) || sa.State == StateDead {
			continue
		}
		sa.deadline = time.Time{}
		m.Log("ikev2: %v: the peer did not delete it, deleting", sa)
		sa.queue = append(sa.queue, &deleteIKETask{})
		m.kick(sa)
	}
}

// tempFailure answers a request that collides with an exchange of ours.
func (m *Manager) tempFailure() []msg.Payload {
	m.stats.TempFailuresSent++
	return []msg.Payload{&msg.Notify{NotType: msg.TEMPORARY_FAILURE}}
}

// busyWithChild reports whether a child exchange of ours is in flight on
// sa (an IKE SA rekey is then refused, RFC 7296 2.25.1).
func (sa *IKESA) busyWithChild() bool {
	if sa.pending == nil {
		return false
	}
	switch sa.pending.t.(type) {
	case *childTask, *deleteChildTask:
		return true
	}
	return false
}

// rekeyingIKE reports whether our rekey of sa is in flight.
func (sa *IKESA) rekeyingIKE() bool { return sa.activeRekey != nil }
