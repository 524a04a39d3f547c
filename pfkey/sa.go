package pfkey

import (
	"fmt"
	"net/netip"
	"strings"
)

// Keys holds an SA's key material; it is the only owner of the bytes.
// Wipe zeroes them. String never shows them.
type Keys struct {
	Auth     []byte
	AuthBits uint16 // 0 means 8*len(Auth)
	Enc      []byte
	EncBits  uint16 // 0 means 8*len(Enc)
}

// Wipe zeroes the key bytes.
func (k *Keys) Wipe() {
	clear(k.Auth)
	clear(k.Enc)
}

// Clone returns a deep copy.
func (k Keys) Clone() Keys {
	k.Auth = cloneBytes(k.Auth)
	k.Enc = cloneBytes(k.Enc)
	return k
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// String shows the key lengths only.
func (k Keys) String() string {
	return fmt.Sprintf("keys(auth %d bits, enc %d bits)", bitsOf(k.AuthBits, k.Auth), bitsOf(k.EncBits, k.Enc))
}

// GoString keeps the key bytes out of %#v too.
func (k Keys) GoString() string { return "pfkey." + k.String() }

func bitsOf(bits uint16, b []byte) int {
	if bits != 0 {
		return int(bits)
	}
	return 8 * len(b)
}

// NATT is the NAT traversal state of an SA (UDP encapsulation).
type NATT struct {
	Type  uint8 // 2 = UDP_ENCAP_ESPINUDP
	SPort uint16
	DPort uint16
	OAI   netip.Addr // original address of the initiator (Linux: NAT_T_OA)
	OAR   netip.Addr // FreeBSD only
	Frag  uint16     // FreeBSD only
}

// SAEntry is one security association in a form that can be read from one
// kernel and written to another: what SADB_GET and SADB_DUMP return and
// what SADB_ADD and SADB_UPDATE take.
type SAEntry struct {
	Type SAType
	SPI  uint32
	Src  netip.Addr
	Dst  netip.Addr
	// Proto is the upper-layer protocol of the address extensions
	// (ProtoAny, or 0 as Linux reports it).
	Proto Proto
	Mode  Mode
	ReqID uint32
	// Seq is sadb_x_sa2_sequence (low 32 bits of the sequence number).
	Seq    uint32
	Replay uint8 // window in packets (sadb_sa_replay)
	// ReplayWindow is FreeBSD's SA_REPLAY extension, for windows over 255
	// packets; 0 if absent.
	ReplayWindow uint32
	State        SAState
	Auth         AuthAlg
	Enc          EncAlg // CompAlg for IPComp
	Flags        SAFlags
	Keys         Keys
	Current      Lifetime
	Hard         *Lifetime
	Soft         *Lifetime
	NATT         *NATT
}

// String describes the SA without its keys.
func (e *SAEntry) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%v %v->%v spi 0x%x mode %v reqid %d", e.Type, e.Src, e.Dst, e.SPI, e.Mode, e.ReqID)
	fmt.Fprintf(&sb, " auth %d enc %d state %v %v", e.Auth, e.Enc, e.State, e.Keys)
	if e.NATT != nil {
		fmt.Fprintf(&sb, " natt %d->%d", e.NATT.SPort, e.NATT.DPort)
	}
	return sb.String()
}

// Wipe zeroes the SA's keys.
func (e *SAEntry) Wipe() { e.Keys.Wipe() }

// Clone returns a deep copy (keys included).
func (e *SAEntry) Clone() *SAEntry {
	c := *e
	c.Keys = e.Keys.Clone()
	if e.Hard != nil {
		h := *e.Hard
		c.Hard = &h
	}
	if e.Soft != nil {
		s := *e.Soft
		c.Soft = &s
	}
	if e.NATT != nil {
		n := *e.NATT
		c.NATT = &n
	}
	return &c
}

// Involves reports whether a is the SA's source or destination.
func (e *SAEntry) Involves(a netip.Addr) bool {
	a = a.WithZone("")
	return e.Src.WithZone("") == a || e.Dst.WithZone("") == a
}

// Message builds the request of type t (MsgAdd, MsgUpdate, MsgDelete,
// MsgGet) for the SA. The message's keys are copies: Wipe it after use.
func (e *SAEntry) Message(t MsgType) *Message {
	proto := e.Proto
	if proto == 0 {
		proto = ProtoAny
	}
	m := &Message{
		Type: t, SAType: e.Type,
		SA:  &SA{SPI: e.SPI, Replay: e.Replay, State: e.State, Auth: e.Auth, Enc: e.Enc, Flags: e.Flags},
		Src: &Address{Proto: proto, PrefixLen: uint8(e.Src.BitLen()), Addr: netip.AddrPortFrom(e.Src, 0)},
		Dst: &Address{Proto: proto, PrefixLen: uint8(e.Dst.BitLen()), Addr: netip.AddrPortFrom(e.Dst, 0)},
	}
	if t == MsgDelete || t == MsgGet {
		m.SA = &SA{SPI: e.SPI}
		return m
	}
	m.SA2 = &SA2{Mode: e.Mode, ReqID: e.ReqID, Sequence: e.Seq}
	if e.Keys.Auth != nil {
		m.AuthKey = &Key{Bits: uint16(bitsOf(e.Keys.AuthBits, e.Keys.Auth)), Data: cloneBytes(e.Keys.Auth)}
	}
	if e.Keys.Enc != nil {
		m.EncKey = &Key{Bits: uint16(bitsOf(e.Keys.EncBits, e.Keys.Enc)), Data: cloneBytes(e.Keys.Enc)}
	}
	if e.Hard != nil {
		h := *e.Hard
		m.LifetimeHard = &h
	}
	if e.Soft != nil {
		s := *e.Soft
		m.LifetimeSoft = &s
	}
	if e.ReplayWindow != 0 {
		m.SAReplay = &SAReplay{Replay: e.ReplayWindow}
	}
	if n := e.NATT; n != nil {
		m.NATTType = &NATTType{Type: n.Type}
		m.NATTSport = &NATTPort{Port: n.SPort}
		m.NATTDport = &NATTPort{Port: n.DPort}
		if n.OAI.IsValid() {
			m.NATTOAI = HostAddress(n.OAI)
		}
		if n.OAR.IsValid() {
			m.NATTOAR = HostAddress(n.OAR)
		}
		if n.Frag != 0 {
			m.NATTFrag = &NATTFrag{FragLen: n.Frag}
		}
	}
	return m
}

// SAEntryFrom extracts the SA of a kernel message (GET, DUMP, ADD, UPDATE,
// EXPIRE replies). The keys are copied out of m.
func SAEntryFrom(m *Message) (*SAEntry, error) {
	if m.SA == nil || m.Src == nil || m.Dst == nil {
		return nil, fmt.Errorf("pfkey: %v: no SA, source or destination extension", m.Type)
	}
	e := &SAEntry{
		Type: m.SAType, SPI: m.SA.SPI,
		Src: m.Src.Addr.Addr(), Dst: m.Dst.Addr.Addr(), Proto: m.Src.Proto,
		Replay: m.SA.Replay, State: m.SA.State, Auth: m.SA.Auth, Enc: m.SA.Enc, Flags: m.SA.Flags,
	}
	if m.SA2 != nil {
		e.Mode, e.ReqID, e.Seq = m.SA2.Mode, m.SA2.ReqID, m.SA2.Sequence
	}
	if m.SAReplay != nil {
		e.ReplayWindow = m.SAReplay.Replay
	}
	if m.AuthKey != nil {
		e.Keys.Auth, e.Keys.AuthBits = cloneBytes(m.AuthKey.Data), m.AuthKey.Bits
	}
	if m.EncKey != nil {
		e.Keys.Enc, e.Keys.EncBits = cloneBytes(m.EncKey.Data), m.EncKey.Bits
	}
	if m.LifetimeCurrent != nil {
		e.Current = *m.LifetimeCurrent
	}
	if m.LifetimeHard != nil {
		h := *m.LifetimeHard
		e.Hard = &h
	}
	if m.LifetimeSoft != nil {
		s := *m.LifetimeSoft
		e.Soft = &s
	}
	if m.NATTType != nil || m.NATTSport != nil || m.NATTDport != nil {
		n := &NATT{}
		if m.NATTType != nil {
			n.Type = m.NATTType.Type
		}
		if m.NATTSport != nil {
			n.SPort = m.NATTSport.Port
		}
		if m.NATTDport != nil {
			n.DPort = m.NATTDport.Port
		}
		if m.NATTOAI != nil {
			n.OAI = m.NATTOAI.Addr.Addr()
		}
		if m.NATTOAR != nil {
			n.OAR = m.NATTOAR.Addr.Addr()
		}
		if m.NATTFrag != nil {
			n.Frag = m.NATTFrag.FragLen
		}
		e.NATT = n
	}
	return e, nil
}

// Clones returns copies (Clone: keys included) of the entries of xs that
// keep accepts, all of them when keep is nil; nil when none is.
func Clones[E interface{ Clone() E }](xs []E, keep func(E) bool) []E {
	var out []E
	for _, x := range xs {
		if keep == nil || keep(x) {
			out = append(out, x.Clone())
		}
	}
	return out
}

// OfType is a filter for Clones: the SAs of type t, every SA with
// SATypeUnspec.
func OfType(t SAType) func(*SAEntry) bool {
	return func(e *SAEntry) bool { return t == SATypeUnspec || e.Type == t }
}
