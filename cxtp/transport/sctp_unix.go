//go:build linux || freebsd

package transport

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ikectx/ikectx/cxtp"
)

// SCTPOptions tune an SCTP conn.
type SCTPOptions struct {
	// Ordered asks for ordered delivery. CXTP messages are independent,
	// so the default is unordered delivery (SCTP_UNORDERED), as RFC 4067
	// section 3.1 suggests: no head-of-line blocking between MNs.
	Ordered bool
	// PPID is the payload protocol identifier put in DATA chunks (none is
	// registered for CXTP; 0 means unspecified).
	PPID uint32
	// Backlog for listen(2); 0 means 128.
	Backlog int
}

// SCTPConn carries CXTP between ARs over SCTP (port 5091) on one
// one-to-many (SOCK_SEQPACKET) socket: the first message to a peer sets
// up the association, each SCTP message is one CXTP message.
type SCTPConn struct {
	f     *os.File
	rc    syscall.RawConn
	local netip.AddrPort
	opts  SCTPOptions
	stats counters

	rmu     sync.Mutex // one reader at a time (buffers, partial delivery)
	buf     []byte
	oob     []byte
	partial []byte
}

// ListenSCTP opens a one-to-many SCTP socket bound to addr (wildcard if
// the address is invalid, port 5091 if zero) and listening for
// associations. On Linux this needs the sctp module (in the kernel lab);
// the host kernel of the development machines has no SCTP.
func ListenSCTP(addr netip.AddrPort, opts SCTPOptions) (*SCTPConn, error) {
	port := addr.Port()
	if port == 0 {
		port = cxtp.Port
	}
	ip := addr.Addr()
	if !ip.IsValid() {
		ip = netip.IPv6Unspecified()
	}
	bindAddr := netip.AddrPortFrom(ip, port)
	family := unix.AF_INET6
	if ip.Is4() {
		family = unix.AF_INET
	}
	fail := func(what string, err error) (*SCTPConn, error) {
		return nil, fmt.Errorf("transport: sctp listen %v: %s: %w", bindAddr, what, err)
	}
	fd, err := unix.Socket(family, unix.SOCK_SEQPACKET|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, solSCTP)
	if err != nil {
		if errors.Is(err, unix.EPROTONOSUPPORT) || errors.Is(err, unix.ESOCKTNOSUPPORT) {
			return fail("socket", fmt.Errorf("%w (no SCTP in this kernel: %s)", err, sctpSupportedMsg))
		}
		return fail("socket", err)
	}
	for _, o := range []struct {
		level, name int
		what        string
	}{
		{unix.SOL_SOCKET, unix.SO_REUSEADDR, "SO_REUSEADDR"},
		{solSCTP, sctpRecvRcvInfo, "SCTP_RECVRCVINFO"},
		{solSCTP, sctpNoDelay, "SCTP_NODELAY"},
	} {
		if err := unix.SetsockoptInt(fd, o.level, o.name, 1); err != nil {
			unix.Close(fd)
			return fail(o.what, err)
		}
	}
	if err := unix.Bind(fd, sockaddr(bindAddr)); err != nil {
		unix.Close(fd)
		return fail("bind", err)
	}
	backlog := opts.Backlog
	if backlog <= 0 {
		backlog = 128
	}
	if err := unix.Listen(fd, backlog); err != nil {
		unix.Close(fd)
		return fail("listen", err)
	}
	local := bindAddr
	if sa, err := unix.Getsockname(fd); err == nil {
		if a, ok := addrPortOf(sa); ok {
			local = a
		}
	}
	f := os.NewFile(uintptr(fd), "sctp:"+local.String())
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return fail("raw conn", err)
	}
	return &SCTPConn{
		f: f, rc: rc, local: local, opts: opts,
		buf: make([]byte, MaxMessage+1),
		oob: make([]byte, unix.CmsgSpace(sctpRcvInfoLen)+unix.CmsgSpace(64)),
	}, nil
}

// Kind implements Conn.
func (s *SCTPConn) Kind() Kind { return KindSCTP }

// LocalAddr implements Conn.
func (s *SCTPConn) LocalAddr() netip.AddrPort { return s.local }

// Stats implements Conn.
func (s *SCTPConn) Stats() Stats { return s.stats.snapshot() }

// WriteTo implements Conn: one SCTP message on stream 0, unordered unless
// SCTPOptions.Ordered. A zero port means 5091.
func (s *SCTPConn) WriteTo(b []byte, to netip.AddrPort) error {
	if len(b) == 0 || len(b) > MaxMessage {
		return fmt.Errorf("transport: sctp send to %v: message of %d octets", to, len(b))
	}
	if to.Port() == 0 {
		to = netip.AddrPortFrom(to.Addr(), cxtp.Port)
	}
	if s.local.Addr().Is6() && to.Addr().Is4() {
		to = netip.AddrPortFrom(netip.AddrFrom16(to.Addr().As16()), to.Port())
	}
	info := sctpSndInfo{PPID: s.opts.PPID}
	if !s.opts.Ordered {
		info.Flags = sctpUnordered
	}
	oob := sndInfoCmsg(info)
	sa := sockaddr(to)
	var serr error
	err := s.rc.Write(func(fd uintptr) bool {
		serr = unix.Sendmsg(int(fd), b, oob, sa, 0)
		return serr != unix.EAGAIN
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("transport: sctp send to %v: %w", to, mapClosed(err))
	}
	s.stats.sent.Add(1)
	return nil
}

// sndInfoCmsg builds the SCTP_SNDINFO control message.
func sndInfoCmsg(info sctpSndInfo) []byte {
	oob := make([]byte, unix.CmsgSpace(sctpSndInfoLen))
	h := (*unix.Cmsghdr)(unsafePointer(&oob[0]))
	h.Level = solSCTP
	h.Type = sctpCmsgSndInfo
	h.SetLen(unix.CmsgLen(sctpSndInfoLen))
	info.marshal(oob[unix.CmsgLen(0):unix.CmsgLen(0)])
	return oob
}

// ReadFrom implements Conn. Notifications are skipped; a message delivered
// in parts (partial delivery) is reassembled.
func (s *SCTPConn) ReadFrom(ctx context.Context) (Packet, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	for {
		var n, oobn, flags int
		var from unix.Sockaddr
		var rerr error
		err := withContext(ctx, s.f.SetReadDeadline, func() error {
			err := s.rc.Read(func(fd uintptr) bool {
				n, oobn, flags, from, rerr = unix.Recvmsg(int(fd), s.buf, s.oob, 0)
				return rerr != unix.EAGAIN
			})
			if err != nil {
				return err
			}
			return rerr
		})
		if err != nil {
			return Packet{}, err
		}
		if flags&msgNotification != 0 {
			continue
		}
		if flags&unix.MSG_EOR == 0 {
			if len(s.partial)+n > MaxMessage {
				s.partial = s.partial[:0]
				s.stats.dropBad.Add(1)
				continue
			}
			s.partial = append(s.partial, s.buf[:n]...)
			continue
		}
		data := append(append([]byte(nil), s.partial...), s.buf[:n]...)
		s.partial = s.partial[:0]
		if len(data) == 0 || len(data) > MaxMessage {
			s.stats.dropBad.Add(1)
			continue
		}
		pkt := Packet{Data: data, HopLimit: -1, Via: KindSCTP}
		if a, ok := addrPortOf(from); ok {
			pkt.From = a
		}
		if cms, err := unix.ParseSocketControlMessage(s.oob[:oobn]); err == nil {
			for _, cm := range cms {
				if cm.Header.Level == solSCTP && cm.Header.Type == sctpCmsgRcvInfo {
					if ri, ok := parseRcvInfo(cm.Data); ok {
						pkt.Unordered = ri.Flags&sctpUnordered != 0
						pkt.Stream = ri.SID
					}
				}
			}
		}
		s.stats.recv.Add(1)
		return pkt, nil
	}
}

// Close implements Conn.
func (s *SCTPConn) Close() error { return s.f.Close() }

func sockaddr(a netip.AddrPort) unix.Sockaddr {
	if a.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().As4()}
	}
	sa := &unix.SockaddrInet6{Port: int(a.Port()), Addr: a.Addr().As16()}
	if z := a.Addr().Zone(); z != "" {
		if ifi, err := netInterfaceIndex(z); err == nil {
			sa.ZoneId = uint32(ifi)
		}
	}
	return sa
}

func addrPortOf(sa unix.Sockaddr) (netip.AddrPort, bool) {
	switch v := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(v.Addr), uint16(v.Port)), true
	case *unix.SockaddrInet6:
		a := netip.AddrFrom16(v.Addr)
		if a.Is4In6() {
			a = a.Unmap()
		}
		return netip.AddrPortFrom(a, uint16(v.Port)), true
	}
	return netip.AddrPort{}, false
}
