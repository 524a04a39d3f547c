package engine

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/ikectx/ikectx/cxtp"
)

// recNet records what an engine sends to peers.
type recNet struct {
	mu   sync.Mutex
	sent map[cxtp.MsgType]int
}

func (n *recNet) SendAR(_ netip.Addr, b []byte) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sent == nil {
		n.sent = map[cxtp.MsgType]int{}
	}
	n.sent[cxtp.MsgType(b[0]&0x1f)]++
	return nil
}
func (n *recNet) SendMN(netip.Addr, []byte) error { return nil }
func (n *recNet) count(t cxtp.MsgType) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sent[t]
}

func admitNAR(t *testing.T, clk Clock, net Net, set func(*ARConfig)) *AR {
	t.Helper()
	reg := NewRegistry()
	for _, f := range benchFPTs {
		reg.Register(Registration{FPT: f.fpt, Handler: nopHandler{}, KeyMaterial: true})
	}
	cfg := ARConfig{Self: aNAR, Access: aNARx, Peers: []Peer{{Addr: aPAR, AccessAddrs: []netip.Addr{aPARx}}},
		Registry: reg, Net: net, Clock: clk, Protection: ProtectedSet{aPAR: true}}
	set(&cfg)
	a, err := NewAR(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

// floodCTAR is a CTAR for a made-up MN with a token nobody can check here.
func floodCTAR(t *testing.T, mn netip.Addr) []byte {
	b, err := cxtp.Marshal(&cxtp.CTAR{PrevCoA: mn, PrevAR: aPARx, Seq: 1, Token: [4]byte{0xba, 0xd0, 0xba, 0xd0}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func srcAddr(i int) netip.Addr {
	return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 2, 12: 0x66, byte(i >> 16), byte(i >> 8), byte(i)})
}

// TestCTARFloodBounded: CTARs for made-up MNs, from one source and from
// many, fill neither the table nor the pending budget, PCTDs evict them,
// and every context stored from the pAR is still activated.
func TestCTARFloodBounded(t *testing.T) {
	clk := NewManualClock()
	net := &recNet{}
	a := admitNAR(t, clk, net, func(c *ARConfig) { c.MaxEntries, c.MaxPending, c.MaxPendingPerSource = 64, 16, 4 })
	for i := range 40 {
		a.HandleAR(aPAR, benchPCTD(t, benchMN(i)))
	}
	// One source, 100 made-up MNs: 4 entries.
	for i := range 100 {
		a.HandleMN(srcAddr(0), floodCTAR(t, benchMN(1000+i)))
	}
	m := a.Metrics()
	if m.Rejected[ReasonSourceLimit] != 96 || m.Live != 44 {
		t.Fatalf("one source: %d source-limit drops, %d entries; want 96, 44", m.Rejected[ReasonSourceLimit], m.Live)
	}
	// 100 sources: 12 more, up to MaxPending.
	for i := range 100 {
		a.HandleMN(srcAddr(1+i), floodCTAR(t, benchMN(2000+i)))
	}
	m = a.Metrics()
	if m.Rejected[ReasonPendingLimit] != 88 || m.Live != 56 {
		t.Fatalf("many sources: %d pending-limit drops, %d entries; want 88, 56", m.Rejected[ReasonPendingLimit], m.Live)
	}
	// 30 more contexts from the pAR: 8 free slots, 16 unauthenticated
	// entries evicted (each CT-Req cancelled with a CTC), 6 refused.
	for i := 40; i < 70; i++ {
		a.HandleAR(aPAR, benchPCTD(t, benchMN(i)))
	}
	m = a.Metrics()
	if m.Stored != 64 || m.Rejected[ReasonEvicted] != 16 || m.Rejected[ReasonTableFull] != 6 || m.Live != 64 {
		t.Fatalf("stored %d, evicted %d, table-full %d, live %d; want 64, 16, 6, 64",
			m.Stored, m.Rejected[ReasonEvicted], m.Rejected[ReasonTableFull], m.Live)
	}
	if n := net.count(cxtp.TypeCTC); n != 16 {
		t.Fatalf("%d CTC sent for evicted requests, want 16", n)
	}
	// A full table of authenticated entries: a new flood source is refused.
	a.HandleMN(srcAddr(500), floodCTAR(t, benchMN(3000)))
	if m = a.Metrics(); m.Rejected[ReasonTableFull] != 7 {
		t.Fatalf("CTAR into a full table: %d table-full drops, want 7", m.Rejected[ReasonTableFull])
	}
	// Every stored context is still there for its MN.
	for i := range 64 {
		a.HandleMN(aMN2, benchCTAR(t, benchMN(i), uint32(i+1)))
	}
	if m = a.Metrics(); m.Activated != 64 || m.Rejected[ReasonBadToken] != 0 {
		t.Fatalf("activated %d of 64 stored contexts (bad-token %d)", m.Activated, m.Rejected[ReasonBadToken])
	}
}

// TestUnauthenticatedSlotsFreed: an answered request leaves the source's
// budget, timed-out requests (tombstones) give way to new requests, and the
// budget comes back when the tombstones go.
func TestUnauthenticatedSlotsFreed(t *testing.T) {
	clk := NewManualClock()
	net := &recNet{}
	a := admitNAR(t, clk, net, func(c *ARConfig) { c.MaxPending, c.MaxPendingPerSource = 2, 1 })
	src := srcAddr(7)
	mnA, mnB := benchMN(1), benchMN(2)
	a.HandleMN(src, benchCTAR(t, mnA, 10))
	a.HandleMN(src, benchCTAR(t, mnB, 11))
	if m := a.Metrics(); m.Rejected[ReasonSourceLimit] != 1 {
		t.Fatalf("second request from one source: %+v", m.Rejected)
	}
	// The pAR answers mnA's request: the entry is no longer unauthenticated.
	ctd, err := cxtp.Marshal(&cxtp.CTD{Ack: true, PrevCoA: mnA, CDBs: cxtp.SplitContext(cxtp.FPTIPsecSA, frame(make([]byte, 64)))})
	if err != nil {
		t.Fatal(err)
	}
	a.HandleAR(aPAR, ctd)
	if m := a.Metrics(); m.Activated != 1 {
		t.Fatalf("reactive transfer not activated: %+v", m)
	}
	a.HandleMN(src, benchCTAR(t, mnB, 12))
	clk.Advance(time.Second) // the second CT-Req is paced (CT_REQUEST_RATE)
	if m := a.Metrics(); m.Rejected[ReasonSourceLimit] != 1 || net.count(cxtp.TypeCTReq) != 2 {
		t.Fatalf("source budget not freed by the answer: %+v, %d CT-Req", m.Rejected, net.count(cxtp.TypeCTReq))
	}
	// Another source fills MaxPending; both requests time out (tombstones).
	a.HandleMN(srcAddr(8), floodCTAR(t, benchMN(3)))
	clk.Advance(31 * time.Second)
	if m := a.Metrics(); m.Rejected[ReasonTransferFailed] != 2 {
		t.Fatalf("requests did not time out: %+v", m.Rejected)
	}
	// A third source: the oldest unauthenticated tombstone makes room.
	a.HandleMN(srcAddr(9), floodCTAR(t, benchMN(4)))
	if m := a.Metrics(); m.Rejected[ReasonEvicted] != 1 || m.Rejected[ReasonPendingLimit] != 0 {
		t.Fatalf("tombstone not evicted for a new request: %+v", m.Rejected)
	}
	// Once the tombstones are gone, src may ask again.
	clk.Advance(2 * time.Minute)
	a.HandleMN(src, benchCTAR(t, benchMN(5), 13))
	if m := a.Metrics(); m.Rejected[ReasonSourceLimit] != 1 {
		t.Fatalf("source budget not freed after the tombstones: %+v", m.Rejected)
	}
}
