package stress

import (
	"fmt"
	"net/netip"
	"sync"

	"github.com/ikectx/ikectx/ikev2"
)

// wire carries IKE messages between the in-process Managers (MNs, pAR,
// nAR) by destination address: Send only queues (Managers send with their
// lock held), Pump delivers until nothing is left. Deterministic and
// lossless: the stress is on the SAD and Algorithm 1, not on the network.
type wire struct {
	mu    sync.Mutex
	q     []datagram
	nodes map[netip.Addr]*ikev2.Manager
	// Messages and Bytes count what was delivered.
	Messages, Bytes int
}

type datagram struct {
	b        []byte
	from, to netip.AddrPort
}

func newWire() *wire { return &wire{nodes: map[netip.Addr]*ikev2.Manager{}} }

func (w *wire) attach(a netip.Addr, m *ikev2.Manager) { w.nodes[a] = m }

func (w *wire) send(b []byte, from, to netip.AddrPort) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.q = append(w.q, datagram{append([]byte(nil), b...), from, to})
}

// pump delivers queued messages (and those their handling queues) until
// the queue is empty; an error after limit deliveries (a message storm).
func (w *wire) pump(limit int) error {
	for n := 0; ; n++ {
		w.mu.Lock()
		if len(w.q) == 0 {
			w.mu.Unlock()
			return nil
		}
		d := w.q[0]
		w.q = w.q[1:]
		w.Messages++
		w.Bytes += len(d.b)
		w.mu.Unlock()
		if n >= limit {
			return fmt.Errorf("stress: more than %d IKE messages in one exchange burst (message storm)", limit)
		}
		if m := w.nodes[d.to.Addr()]; m != nil {
			m.Handle(d.b, d.to, d.from)
		}
	}
}
