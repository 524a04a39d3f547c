package engine

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/ikectx/ikectx/cxtp"
)

// Reasons a message or request is rejected or dropped, as counted.
const (
	ReasonBadToken       = "bad-token"               // CTAR/CT-Req token did not verify
	ReasonReplayedSeq    = "replayed-seq"            // sequence number seen within the window
	ReasonExpired        = "expired"                 // CTAR for a context that expired
	ReasonUnknownPeer    = "unknown-peer"            // AR-AR message from an unconfigured address
	ReasonUnknownPAR     = "unknown-par"             // CTAR names a pAR that is not a peer
	ReasonNoKey          = "no-key"                  // CT-Req/trigger for an MN without a configured key
	ReasonTruncated      = "truncated"               // message shorter than its header or Length
	ReasonMalformed      = "malformed"               // any other decode error
	ReasonOversized      = "oversized"               // longer than its Length, or than any CXTP message
	ReasonWrongChannel   = "wrong-channel"           // e.g. a CTAR on the AR-AR channel
	ReasonUnexpected     = "unexpected"              // valid but not expected in this state
	ReasonUnprotected    = "unprotected"             // key material refused: channel not protected
	ReasonTransferFailed = "transfer-timeout"        // CT-Req retransmissions gave up
	ReasonRateLimited    = "rate-limited"            // trigger refused while one is in progress
	ReasonSourceLimit    = "source-limit"            // CTAR source holds MaxPendingPerSource unauthenticated entries
	ReasonPendingLimit   = "pending-limit"           // MaxPending unauthenticated entries held, none evictable
	ReasonTableFull      = "table-full"              // MaxEntries held, no unauthenticated entry to evict
	ReasonEvicted        = "evicted-unauthenticated" // an unauthenticated entry made room
)

// Metrics counts what an engine did. The zero value is ready.
type Metrics struct {
	mu        sync.Mutex
	stored    uint64
	activated uint64
	expired   uint64
	cancelled uint64
	rejected  map[string]uint64
	sent      map[cxtp.MsgType]uint64
	received  map[cxtp.MsgType]uint64
}

// Snapshot is a copy of the counters.
type Snapshot struct {
	Stored    uint64            `json:"stored"`
	Activated uint64            `json:"activated"`
	Expired   uint64            `json:"expired"`
	Cancelled uint64            `json:"cancelled"`
	Rejected  map[string]uint64 `json:"rejected"`
	Sent      map[string]uint64 `json:"sent"`
	Received  map[string]uint64 `json:"received"`
	// Live is the number of MN entries the engine holds now.
	Live int `json:"live"`
}

func (m *Metrics) add(p *uint64) {
	m.mu.Lock()
	*p++
	m.mu.Unlock()
}

func (m *Metrics) reject(reason string) {
	m.mu.Lock()
	if m.rejected == nil {
		m.rejected = map[string]uint64{}
	}
	m.rejected[reason]++
	m.mu.Unlock()
}

func (m *Metrics) msg(sent bool, t cxtp.MsgType) {
	m.mu.Lock()
	mp := &m.received
	if sent {
		mp = &m.sent
	}
	if *mp == nil {
		*mp = map[cxtp.MsgType]uint64{}
	}
	(*mp)[t]++
	m.mu.Unlock()
}

// Snapshot copies the counters.
func (m *Metrics) Snapshot() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Snapshot{Stored: m.stored, Activated: m.activated, Expired: m.expired, Cancelled: m.cancelled,
		Rejected: map[string]uint64{}, Sent: map[string]uint64{}, Received: map[string]uint64{}}
	for k, v := range m.rejected {
		s.Rejected[k] = v
	}
	for k, v := range m.sent {
		s.Sent[k.String()] = v
	}
	for k, v := range m.received {
		s.Received[k.String()] = v
	}
	return s
}

// String renders a snapshot as "name value" lines, sorted, for the status
// command.
func (s Snapshot) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "contexts stored %d\ncontexts activated %d\ncontexts expired %d\ncontexts cancelled %d\nentries live %d\n",
		s.Stored, s.Activated, s.Expired, s.Cancelled, s.Live)
	line := func(prefix string, m map[string]uint64) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s %s %d\n", prefix, k, m[k])
		}
	}
	line("rejected", s.Rejected)
	line("sent", s.Sent)
	line("received", s.Received)
	return b.String()
}
