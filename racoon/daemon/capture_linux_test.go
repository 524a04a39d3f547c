package daemon

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
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

// inNS runs fn on a thread that is in network namespace ns; sockets fn
// opens stay in that namespace.
func inNS(t *testing.T, ns string, fn func() error) error {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		return err
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return err
	}
	ferr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		panic(err) // this thread must not go back to the pool in the wrong namespace
	}
	return ferr
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// rawCapture reads the frames of dev inside namespace ns from an AF_PACKET
// socket opened in that namespace and hands each to fn (on the reader
// goroutine) with its kernel receive timestamp and packet type
// (unix.PACKET_HOST for frames addressed to this host, PACKET_OUTGOING for
// the ones it sends, ...). The socket has a 20 ms receive timeout, so stop
// never waits for a further frame; after stop returns fn is not called.
func rawCapture(t *testing.T, ns, dev string, fn func(data []byte, at time.Time, pkttype uint8)) (stop func()) {
	var fd int
	if err := inNS(t, ns, func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL))); err != nil {
			return err
		}
		err = unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index})
		if err == nil {
			err = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 20000})
		}
		if err == nil {
			err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
		}
		if err != nil {
			unix.Close(fd)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer unix.Close(fd)
		buf, oob := make([]byte, 65536), make([]byte, 256)
		for {
			select {
			case <-quit:
				return
			default:
			}
			n, oobn, _, from, err := unix.Recvmsg(fd, buf, oob, 0)
			if err != nil {
				continue // EAGAIN at each timeout, EINTR
			}
			ll, ok := from.(*unix.SockaddrLinklayer)
			if !ok {
				continue
			}
			at := time.Now()
			if cms, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
				for _, m := range cms {
					if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})) {
						ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
						at = time.Unix(int64(ts.Sec), int64(ts.Nsec))
					}
				}
			}
			fn(buf[:n], at, ll.Pkttype)
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// capture records the IKE frames (UDP 500/4500) on dev inside namespace ns,
// both directions, with rawCapture.
func capture(t *testing.T, ns, dev string) (stop func() []frame) {
	var mu sync.Mutex
	var frames []frame
	seen := map[string]bool{}
	stopRaw := rawCapture(t, ns, dev, func(data []byte, at time.Time, _ uint8) {
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
