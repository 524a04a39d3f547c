package daemon

import (
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/ikectx/ikectx/internal/esptest"
	"github.com/ikectx/ikectx/racoon/isakmp"
)

type frame struct {
	dup   bool // a byte-identical copy of an earlier message (retransmission)
	at    time.Time
	size  int // Ethernet frame bytes
	ike   int // ISAKMP bytes
	etype isakmp.ExchangeType
	src   string
}

// capture records the IKE frames (UDP 500/4500) on dev inside namespace ns,
// both directions, with esptest.Sniff.
func capture(t *testing.T, ns, dev string) (stop func() []frame) {
	var mu sync.Mutex
	var frames []frame
	seen := map[string]bool{}
	stopRaw := esptest.Sniff(t, ns, dev, func(data []byte, at time.Time, _ uint8) {
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		u, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if u == nil || (u.DstPort != 500 && u.DstPort != 4500) {
			return
		}
		pl := u.Payload
		if u.DstPort == 4500 && len(pl) >= 4 {
			pl = pl[4:]
		}
		var hd isakmp.Header
		if hd.DecodeFromBytes(pl) != nil {
			return
		}
		src := ""
		if n := p.NetworkLayer(); n != nil {
			src = n.NetworkFlow().Src().String()
		}
		key := string(pl)
		mu.Lock()
		dup := seen[key]
		seen[key] = true
		frames = append(frames, frame{dup: dup, at: at, size: len(data), ike: len(pl), etype: hd.ExchangeType, src: src})
		mu.Unlock()
	})
	return func() []frame {
		stopRaw()
		mu.Lock()
		defer mu.Unlock()
		return append([]frame(nil), frames...)
	}
}

// summarize logs the frames and returns the number of distinct messages
// (retransmissions, byte-identical copies, are listed but not counted) and
// their frame bytes.
func summarize(t *testing.T, what string, frames []frame) (int, int) {
	n, total, ikeBytes, dups := 0, 0, 0, 0
	for i, f := range frames {
		mark := ""
		if f.dup {
			dups++
			mark = " (retransmission)"
		} else {
			n++
			total += f.size
			ikeBytes += f.ike
		}
		t.Logf("  #%d +%v %s %s frame %d ISAKMP %d%s", i+1, f.at.Sub(frames[0].at).Round(time.Microsecond), f.src, f.etype, f.size, f.ike, mark)
	}
	if len(frames) > 0 {
		t.Logf("%s: %d messages, %d frame bytes (%d ISAKMP bytes), %d retransmissions, first to last %v",
			what, n, total, ikeBytes, dups, frames[len(frames)-1].at.Sub(frames[0].at).Round(time.Microsecond))
	}
	return n, total
}
