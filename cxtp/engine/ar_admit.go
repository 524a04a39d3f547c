package engine

import (
	"net/netip"

	"github.com/ikectx/ikectx/cxtp"
)

// Admission of unauthenticated entries on the nAR.
//
// A CTAR for an MN the nAR holds nothing for creates a "requested" entry
// before anything is authenticated: the nAR cannot check the token (the
// pAR holds the key), so any host on the access link can create entries by
// naming made-up previous addresses. Such entries are marked
// unauthenticated until the context arrives from the pAR over the
// protected AR-AR channel (CTD or PCTD, after the pAR checked the token).
// They are bounded three ways, each drop counted by its reason:
//
//   - per source: at most MaxPendingPerSource unauthenticated entries
//     (pending requests and their tombstones) per CTAR source, sources
//     grouped by SourcePrefix (IPv6) or SourcePrefix4 (IPv4) bits
//     ("source-limit");
//   - in all: at most MaxPending unauthenticated entries; past it the
//     oldest unauthenticated tombstone makes room, else the CTAR is dropped
//     ("pending-limit");
//   - the table (MaxEntries): an authenticated newcomer (a PCTD) evicts the
//     oldest unauthenticated entry, tombstones first, then pending requests
//     (the pAR is told with a CTC); an unauthenticated newcomer only evicts
//     unauthenticated tombstones ("table-full" when nothing can go). Each
//     eviction counts "evicted-unauthenticated".
//
// Stored contexts, activated tombstones and entries being answered by the
// pAR are never evicted for an unauthenticated newcomer.

// sourceKey groups CTAR sources for the per-source limit.
func (a *AR) sourceKey(src netip.Addr) netip.Prefix {
	bits := a.cfg.SourcePrefix
	if src.Is4() {
		bits = a.cfg.SourcePrefix4
	}
	p, err := src.Prefix(bits)
	if err != nil {
		return netip.PrefixFrom(src, src.BitLen())
	}
	return p
}

// markUnauth records that src created e without authentication.
func (a *AR) markUnauth(e *inEntry, src netip.Addr) {
	if e.unauth {
		return
	}
	k := a.sourceKey(src)
	e.unauth, e.srcKey = true, k
	a.unauthN++
	a.perSource[k]++
}

// markAuth records that e's context now comes from the protected AR-AR
// channel (or that e leaves the table): its unauthenticated slot is freed.
func (a *AR) markAuth(e *inEntry) {
	if !e.unauth {
		return
	}
	e.unauth = false
	a.unauthN--
	if a.perSource[e.srcKey]--; a.perSource[e.srcKey] <= 0 {
		delete(a.perSource, e.srcKey)
	}
}

// removeIn deletes e from the table.
func (a *AR) removeIn(e *inEntry) {
	a.markAuth(e)
	e.stopTimers()
	wipe(e.key)
	e.key, e.data = nil, nil
	if a.in[e.prev] == e {
		delete(a.in, e.prev)
	}
}

// admitUnauth reports whether a CTAR from src may create an
// unauthenticated entry for mn, making room if it can; a refusal is
// counted.
func (a *AR) admitUnauth(src, mn netip.Addr) bool {
	k := a.sourceKey(src)
	if n := a.perSource[k]; n >= a.cfg.MaxPendingPerSource {
		a.drop(ReasonSourceLimit, "mn", mn, "src", src, "source", k, "entries", n)
		return false
	}
	if a.unauthN >= a.cfg.MaxPending && !a.evictUnauth(true) {
		a.drop(ReasonPendingLimit, "mn", mn, "src", src, "unauthenticated", a.unauthN)
		return false
	}
	if len(a.in) >= a.cfg.MaxEntries && !a.evictUnauth(true) {
		a.drop(ReasonTableFull, "mn", mn, "src", src, "entries", len(a.in))
		return false
	}
	return true
}

// roomForAuth makes room for an authenticated entry: true if the table has
// a free slot or one unauthenticated entry was evicted.
func (a *AR) roomForAuth() bool {
	return len(a.in) < a.cfg.MaxEntries || a.evictUnauth(false)
}

// evictUnauth removes the oldest unauthenticated entry, preferring ended
// ones (tombstones); with tombstonesOnly, pending requests stay.
func (a *AR) evictUnauth(tombstonesOnly bool) bool {
	var victim *inEntry
	for _, e := range a.in {
		if !e.unauth {
			continue
		}
		pending := e.state == inRequested
		if tombstonesOnly && pending {
			continue
		}
		if victim == nil || evictBefore(e, victim) {
			victim = e
		}
	}
	if victim == nil {
		return false
	}
	a.drop(ReasonEvicted, "mn", victim.prev, "par", victim.par, "state", victim.state)
	if victim.state == inRequested {
		// Our CT-Req is outstanding: tell the pAR to forget it.
		a.sendAR(victim.par, &cxtp.CTC{PrevCoA: victim.prev})
	}
	a.removeIn(victim)
	return true
}

// evictBefore orders eviction candidates: tombstones before pending
// requests, then the oldest first.
func evictBefore(e, than *inEntry) bool {
	ep, tp := e.state == inRequested, than.state == inRequested
	if ep != tp {
		return !ep
	}
	return e.started.Before(than.started)
}
