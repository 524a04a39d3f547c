package daemon

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"golang.org/x/sys/unix"

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

// capture records the IKE frames (UDP 500/4500) on dev inside namespace ns
// with an AF_PACKET socket opened in that namespace (gopacket/pcapgo).
func capture(t *testing.T, ns, dev string) (stop func() []frame) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := os.Open("/proc/self/task/" + fmt.Sprint(unix.Gettid()) + "/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatal(err)
	}
	h, herr := pcapgo.NewEthernetHandle(dev)
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		panic(err) // this thread must not go back to the pool in the wrong namespace
	}
	if herr != nil {
		t.Fatal(herr)
	}
	var mu sync.Mutex
	var frames []frame
	seen := map[string]bool{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			data, ci, err := h.ReadPacketData()
			if err != nil {
				return
			}
			p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
			u, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
			if u == nil || (u.DstPort != 500 && u.DstPort != 4500) {
				continue
			}
			pl := u.Payload
			if u.DstPort == 4500 && len(pl) >= 4 {
				pl = pl[4:]
			}
			var hd isakmp.Header
			if hd.DecodeFromBytes(pl) != nil {
				continue
			}
			src := ""
			if n := p.NetworkLayer(); n != nil {
				src = n.NetworkFlow().Src().String()
			}
			key := string(pl)
			mu.Lock()
			dup := seen[key]
			seen[key] = true
			frames = append(frames, frame{dup: dup, at: ci.Timestamp, size: ci.Length, ike: len(pl), etype: hd.ExchangeType, src: src})
			mu.Unlock()
		}
	}()
	return func() []frame {
		h.Close()
		<-done
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
