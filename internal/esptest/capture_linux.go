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

// Capture records the ESP packets (IP protocol 50, or UDP to port 4500
// with a non-zero first word, RFC 3948) that arrive on dev inside
// namespace ns (frames addressed to this host, not the ones it sends),
// from an AF_PACKET socket opened in that namespace. snap returns the
// packets so far; stop ends the capture (also done by t's cleanup).
func Capture(t *testing.T, ns, dev string) (snap func() []Frame, stop func()) {
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
		if err != nil {
			unix.Close(fd)
		}
		return err
	}); err != nil {
		t.Fatalf("esptest: capture on %s in %s: %v", dev, ns, err)
	}
	var mu sync.Mutex
	var frames []Frame
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer unix.Close(fd)
		buf := make([]byte, 65536)
		for {
			select {
			case <-quit:
				return
			default:
			}
			n, from, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				continue // EAGAIN at each timeout, EINTR
			}
			if ll, ok := from.(*unix.SockaddrLinklayer); !ok || ll.Pkttype != unix.PACKET_HOST {
				continue
			}
			if f, ok := espFrame(buf[:n]); ok {
				mu.Lock()
				frames = append(frames, f)
				mu.Unlock()
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(quit); <-done }) }
	t.Cleanup(stop)
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
