//go:build linux

package esptest

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/sys/unix"
)

// InNS runs fn on a thread that is in network namespace ns (a name under
// /run/netns); sockets fn opens stay in that namespace.
func InNS(ns string, fn func() error) error {
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

// Frame is one ESP packet seen on the wire.
type Frame struct {
	UDP      bool   // UDP-encapsulated (RFC 3948, port 4500)
	Size     int    // Ethernet frame bytes
	ESP      []byte // from the SPI to the ICV
	Src, Dst netip.Addr
}

// Sniff reads every frame of dev inside namespace ns, both directions,
// from an AF_PACKET socket opened in that namespace, and hands each to fn
// on the reader goroutine with its kernel receive timestamp and packet
// type (unix.PACKET_HOST for frames addressed to this host,
// PACKET_OUTGOING for the ones it sends, ...). data is valid only during
// the call. The socket has a 20 ms receive timeout, so stop never waits
// for a further frame; after stop returns fn is not called. stop may be
// called more than once and is also run by t's cleanup.
func Sniff(t *testing.T, ns, dev string, fn func(data []byte, at time.Time, pkttype uint8)) (stop func()) {
	t.Helper()
	var fd int
	if err := InNS(ns, func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		proto := int(htons(unix.ETH_P_ALL))
		if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto); err != nil {
			return err
		}
		err = unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index})
		if err == nil {
			// a receive timeout, so that stop never waits for a frame
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
		t.Fatalf("esptest: capture on %s in %s: %v", dev, ns, err)
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
			fn(buf[:n], rxTime(oob[:oobn]), ll.Pkttype)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(quit); <-done }) }
	t.Cleanup(stop)
	return stop
}

// rxTime is the kernel receive timestamp (SO_TIMESTAMPNS) among a frame's
// control messages, or the time now if there is none.
func rxTime(oob []byte) time.Time {
	cms, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Now()
	}
	for _, m := range cms {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})) {
			ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
			return time.Unix(int64(ts.Sec), int64(ts.Nsec))
		}
	}
	return time.Now()
}

// Capture records the ESP packets (IP protocol 50, or UDP to port 4500
// with a non-zero first word, RFC 3948) that arrive on dev inside
// namespace ns (frames addressed to this host, not the ones it sends),
// with Sniff. snap returns the packets so far; stop ends the capture (also
// done by t's cleanup).
func Capture(t *testing.T, ns, dev string) (snap func() []Frame, stop func()) {
	t.Helper()
	var mu sync.Mutex
	var frames []Frame
	stop = Sniff(t, ns, dev, func(data []byte, _ time.Time, pkttype uint8) {
		if pkttype != unix.PACKET_HOST {
			return
		}
		if f, ok := espFrame(data); ok {
			mu.Lock()
			frames = append(frames, f)
			mu.Unlock()
		}
	})
	return func() []Frame {
		mu.Lock()
		defer mu.Unlock()
		return append([]Frame(nil), frames...)
	}, stop
}

// espFrame extracts the ESP packet of an Ethernet frame, if it holds one.
func espFrame(data []byte) (Frame, bool) {
	p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
	f := Frame{Size: len(data)}
	if nl := p.NetworkLayer(); nl != nil {
		f.Src, _ = netip.AddrFromSlice(nl.NetworkFlow().Src().Raw())
		f.Dst, _ = netip.AddrFromSlice(nl.NetworkFlow().Dst().Raw())
	}
	if u, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP); u != nil {
		if u.DstPort != 4500 || len(u.Payload) < 8 || bytes.Equal(u.Payload[:4], []byte{0, 0, 0, 0}) {
			return f, false // IKE (non-ESP marker) or a NAT-keepalive (1 byte)
		}
		f.UDP, f.ESP = true, append([]byte(nil), u.Payload...)
		return f, true
	}
	if e, _ := p.Layer(layers.LayerTypeIPSecESP).(*layers.IPSecESP); e != nil {
		f.ESP = append(append([]byte(nil), e.Contents...), e.Payload...)
		return f, true
	}
	return f, false
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
