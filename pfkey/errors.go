package pfkey

import (
	"fmt"
	"net/netip"
	"strings"
	"syscall"
)

// Error is a kernel error reply (sadb_msg_errno set) or a failed socket
// operation, named after the request. It unwraps to the errno, so
// errors.Is(err, unix.EEXIST) works.
type Error struct {
	Type   MsgType
	SAType SAType
	// What describes the object of the request: addresses, SPI, policy.
	What  string
	Errno syscall.Errno
}

func (e *Error) Error() string {
	var sb strings.Builder
	sb.WriteString("pfkey: ")
	sb.WriteString(e.Type.String())
	if e.What != "" {
		sb.WriteByte(' ')
		sb.WriteString(e.What)
	}
	sb.WriteString(": ")
	sb.WriteString(e.Errno.Error())
	return sb.String()
}

// Unwrap returns the errno.
func (e *Error) Unwrap() error { return e.Errno }

// Describe returns a short human description of the object of a message
// (never key bytes): "esp 2001:db8::1->2001:db8::2 spi 0x1000" for SA
// messages, "2001:db8:1::/64->2001:db8:2::/64 out" for policy messages.
func Describe(m *Message) string {
	var parts []string
	isSPD := m.Type >= MsgXSPDUpdate && m.Type <= MsgXSPDDelete2
	if !isSPD && m.SAType != SATypeUnspec {
		parts = append(parts, m.SAType.String())
	}
	if m.Src != nil || m.Dst != nil {
		parts = append(parts, addrString(m.Src, isSPD)+"->"+addrString(m.Dst, isSPD))
	}
	if m.SA != nil {
		parts = append(parts, fmt.Sprintf("spi 0x%x", m.SA.SPI))
	}
	if m.SPIRange != nil {
		parts = append(parts, fmt.Sprintf("spirange 0x%x-0x%x", m.SPIRange.Min, m.SPIRange.Max))
	}
	if m.Policy != nil {
		parts = append(parts, m.Policy.Dir.String())
		if m.Policy.ID != 0 {
			parts = append(parts, fmt.Sprintf("id %d", m.Policy.ID))
		}
	}
	return strings.Join(parts, " ")
}

func addrString(a *Address, prefix bool) string {
	if a == nil {
		return "?"
	}
	ip := a.Addr.Addr()
	s := ip.String()
	if prefix && int(a.PrefixLen) != ip.BitLen() {
		s = netip.PrefixFrom(ip, int(a.PrefixLen)).String()
	}
	if a.Addr.Port() != 0 {
		if ip.Is6() {
			s = "[" + s + "]"
		}
		s += fmt.Sprintf(":%d", a.Addr.Port())
	}
	return s
}

func replyError(req, reply *Message) error {
	if reply.Errno == 0 {
		return nil
	}
	return &Error{Type: req.Type, SAType: req.SAType, What: Describe(req), Errno: syscall.Errno(reply.Errno)}
}
