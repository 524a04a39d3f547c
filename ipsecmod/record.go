package ipsecmod

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/ikectx/ikectx/ipsecmod/ikev2ctx"
	"github.com/ikectx/ikectx/ipsecmod/internal/wire"
	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/admin"
)

// Record types (octet 0 of every record). 0 is invalid.
const (
	RecHeader = 1 // context header: MN, AR, capture time, record count
	RecSA     = 2 // one SAD entry with its keys
	RecSP     = 3 // one SPD entry
	RecIKEv1  = 4 // one IKEv1 phase-1 SA (racoon/admin Phase1Context)
	RecIKEv2  = 5 // one IKEv2 SA (package ikev2ctx)
)

// RecordVersion is the layout version of every record type this package
// writes and reads.
const RecordVersion = 1

const (
	recHdrLen    = 4
	headerLen    = 56
	saFixedLen   = 112
	spFixedLen   = 64
	lifetimeLen  = 32
	nattLen      = 48
	requestLen   = 48
	maxKeyOctets = 512
	maxRequests  = 32
)

// Dialect codes of the algorithm numbers in SA records.
const (
	dialectLinux   = 1
	dialectFreeBSD = 2
)

func dialectCode(d *pfkey.Dialect) uint8 {
	if d == pfkey.FreeBSD {
		return dialectFreeBSD
	}
	return dialectLinux
}

func dialectOf(c uint8) (*pfkey.Dialect, bool) {
	switch c {
	case dialectLinux:
		return pfkey.Linux, true
	case dialectFreeBSD:
		return pfkey.FreeBSD, true
	}
	return nil, false
}

// Header opens every FPT's context: who the context belongs to and where
// it was captured, so the nAR knows which addresses to rewrite.
type Header struct {
	MN       netip.Addr // the MN's care-of address at the pAR (pCoA)
	AR       netip.Addr // the pAR's tunnel endpoint towards the MN
	Captured time.Time  // capture time on the pAR (seconds)
	Count    int        // number of records after the header
	// Dialect is the capturing system's PF_KEY dialect (nil: unknown):
	// Linux has forward policies, FreeBSD checks forwarded packets
	// against inbound ones.
	Dialect *pfkey.Dialect
}

func appendHeader(b []byte, h Header) []byte {
	b = append(b, RecHeader, RecordVersion, 0, headerLen)
	b = binary.BigEndian.AppendUint16(b, uint16(h.Count))
	var dc uint8
	if h.Dialect != nil {
		dc = dialectCode(h.Dialect)
	}
	b = append(b, dc, 0)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Captured.Unix()))
	b = wire.AppendAddr(b, netip.AddrPortFrom(h.MN, 0))
	b = wire.AppendAddr(b, netip.AddrPortFrom(h.AR, 0))
	return b
}

func parseHeader(b []byte) (Header, error) {
	r := &wire.Reader{B: b, What: "ipsecmod: header record"}
	r.Take("record header", recHdrLen)
	var h Header
	h.Count = int(r.U16("count"))
	if dc := r.U8("dialect"); dc != 0 {
		if d, ok := dialectOf(dc); ok {
			h.Dialect = d
		} else {
			r.Fail("dialect", fmt.Errorf("unknown dialect %d", dc))
		}
	}
	r.Zero("reserved", 1)
	h.Captured = time.Unix(int64(r.U64("capture time")), 0)
	h.MN = r.Addr("MN address").Addr()
	h.AR = r.Addr("AR address").Addr()
	if r.Err == nil && !h.MN.IsValid() {
		r.Fail("MN address", fmt.Errorf("missing"))
	}
	return h, r.Err
}

// rawRecord is one record cut from a context: its type and all its octets
// (header included).
type rawRecord struct {
	Type uint8
	B    []byte
}

// splitRecords cuts b into records. Between records (and at the end) up to
// 7 zero octets are skipped: the padding of a CDB when each record travels
// in its own block (see CDBs).
func splitRecords(b []byte) ([]rawRecord, error) {
	var out []rawRecord
	off := 0
	for off < len(b) {
		if b[off] == 0 {
			pad := 0
			for off+pad < len(b) && b[off+pad] == 0 && pad < 8 {
				pad++
			}
			if pad > 7 {
				return nil, fmt.Errorf("ipsecmod: record %d at offset %d: more than 7 zero octets", len(out), off)
			}
			off += pad
			continue
		}
		if len(b)-off < recHdrLen {
			return nil, fmt.Errorf("ipsecmod: record %d at offset %d: %w: %d octets", len(out), off, wire.ErrShort, len(b)-off)
		}
		t, v, n := b[off], b[off+1], int(binary.BigEndian.Uint16(b[off+2:]))
		if t > RecIKEv2 {
			return nil, fmt.Errorf("ipsecmod: record %d at offset %d: unknown type %d", len(out), off, t)
		}
		if v != RecordVersion {
			return nil, fmt.Errorf("ipsecmod: record %d (type %d) at offset %d: version %d not supported (want %d)", len(out), t, off, v, RecordVersion)
		}
		if n < recHdrLen || n > len(b)-off {
			return nil, fmt.Errorf("ipsecmod: record %d (type %d) at offset %d: bad length %d (%d octets left)", len(out), t, off, n, len(b)-off)
		}
		out = append(out, rawRecord{Type: t, B: b[off : off+n : off+n]})
		off += n
	}
	return out, nil
}

// SA is one SAD entry as it travels: the kernel's entry (which owns the
// keys), the dialect whose numbers its algorithms use, and its age.
type SA struct {
	Entry   *pfkey.SAEntry
	Dialect *pfkey.Dialect
	// Age is how long the SA had existed when it was captured;
	// SinceUse how long ago it was first used (0: never). They let the
	// receiver shorten the add-time and use-time lifetimes.
	Age, SinceUse time.Duration
}

// String describes the SA without its keys.
func (s *SA) String() string { return s.Entry.String() }

// Wipe zeroes the keys.
func (s *SA) Wipe() {
	if s != nil && s.Entry != nil {
		s.Entry.Wipe()
	}
}

func appendLifetime(b []byte, l *pfkey.Lifetime) []byte {
	b = binary.BigEndian.AppendUint32(b, l.Allocations)
	b = append(b, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint64(b, l.Bytes)
	b = binary.BigEndian.AppendUint64(b, l.AddTime)
	return binary.BigEndian.AppendUint64(b, l.UseTime)
}

func readLifetime(r *wire.Reader, what string) *pfkey.Lifetime {
	l := &pfkey.Lifetime{}
	l.Allocations = r.U32(what + " allocations")
	r.Zero(what+" reserved", 4)
	l.Bytes = r.U64(what + " bytes")
	l.AddTime = r.U64(what + " addtime")
	l.UseTime = r.U64(what + " usetime")
	return l
}

func dur64(d time.Duration) uint64 {
	if d < 0 {
		return 0
	}
	return uint64(d / time.Second)
}

// AppendSA appends the record of s.
func AppendSA(b []byte, s *SA) ([]byte, error) {
	e := s.Entry
	if e == nil {
		return b, fmt.Errorf("ipsecmod: SA record: no entry")
	}
	if len(e.Keys.Auth) > maxKeyOctets || len(e.Keys.Enc) > maxKeyOctets {
		return b, fmt.Errorf("ipsecmod: SA record %v: key longer than %d octets", e, maxKeyOctets)
	}
	start := len(b)
	b = append(b, RecSA, RecordVersion, 0, 0)
	b = append(b, dialectCode(s.Dialect), uint8(e.Type), uint8(e.Mode), uint8(e.State))
	b = binary.BigEndian.AppendUint32(b, e.SPI)
	b = binary.BigEndian.AppendUint32(b, e.ReqID)
	b = binary.BigEndian.AppendUint32(b, uint32(e.Flags))
	b = append(b, e.Replay, uint8(e.Proto), uint8(e.Auth), uint8(e.Enc))
	b = binary.BigEndian.AppendUint32(b, e.ReplayWindow)
	b = binary.BigEndian.AppendUint32(b, e.Seq)
	b = binary.BigEndian.AppendUint16(b, e.Keys.AuthBits)
	b = binary.BigEndian.AppendUint16(b, e.Keys.EncBits)
	b = binary.BigEndian.AppendUint16(b, uint16(len(e.Keys.Auth)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(e.Keys.Enc)))
	var opt uint8
	if e.Hard != nil {
		opt |= 1
	}
	if e.Soft != nil {
		opt |= 2
	}
	if e.NATT != nil {
		opt |= 4
	}
	b = append(b, opt, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, e.Current.Allocations)
	b = binary.BigEndian.AppendUint64(b, e.Current.Bytes)
	b = binary.BigEndian.AppendUint64(b, dur64(s.Age))
	b = binary.BigEndian.AppendUint64(b, dur64(s.SinceUse))
	b = wire.AppendAddr(b, netip.AddrPortFrom(e.Src, 0))
	b = wire.AppendAddr(b, netip.AddrPortFrom(e.Dst, 0))
	if e.Hard != nil {
		b = appendLifetime(b, e.Hard)
	}
	if e.Soft != nil {
		b = appendLifetime(b, e.Soft)
	}
	if n := e.NATT; n != nil {
		b = append(b, n.Type, 0)
		b = binary.BigEndian.AppendUint16(b, n.SPort)
		b = binary.BigEndian.AppendUint16(b, n.DPort)
		b = binary.BigEndian.AppendUint16(b, n.Frag)
		b = wire.AppendAddr(b, netip.AddrPortFrom(n.OAI, 0))
		b = wire.AppendAddr(b, netip.AddrPortFrom(n.OAR, 0))
	}
	b = append(b, e.Keys.Auth...)
	b = append(b, e.Keys.Enc...)
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b, nil
}

// ParseSA decodes exactly one SA record. The keys are copied.
func ParseSA(b []byte) (*SA, error) {
	r := &wire.Reader{B: b, What: "ipsecmod: SA record"}
	checkRecHeader(r, RecSA, len(b))
	e := &pfkey.SAEntry{}
	s := &SA{Entry: e}
	dc := r.U8("dialect")
	if d, ok := dialectOf(dc); ok {
		s.Dialect = d
	} else if r.Err == nil {
		r.Fail("dialect", fmt.Errorf("unknown dialect %d", dc))
	}
	e.Type = pfkey.SAType(r.U8("SA type"))
	e.Mode = pfkey.Mode(r.U8("mode"))
	e.State = pfkey.SAState(r.U8("state"))
	e.SPI = r.U32("SPI")
	e.ReqID = r.U32("reqid")
	e.Flags = pfkey.SAFlags(r.U32("flags"))
	e.Replay = r.U8("replay")
	e.Proto = pfkey.Proto(r.U8("proto"))
	e.Auth = pfkey.AuthAlg(r.U8("auth"))
	e.Enc = pfkey.EncAlg(r.U8("enc"))
	e.ReplayWindow = r.U32("replay window")
	e.Seq = r.U32("sequence")
	e.Keys.AuthBits = r.U16("auth key bits")
	e.Keys.EncBits = r.U16("enc key bits")
	na, ne := int(r.U16("auth key length")), int(r.U16("enc key length"))
	if r.Err == nil && (na > maxKeyOctets || ne > maxKeyOctets) {
		r.Fail("key length", fmt.Errorf("over %d octets", maxKeyOctets))
	}
	opt := r.U8("optional parts")
	if r.Err == nil && opt&^7 != 0 {
		r.Fail("optional parts", fmt.Errorf("unknown bits 0x%02x", opt))
	}
	r.Zero("reserved", 3)
	e.Current.Allocations = r.U32("current allocations")
	e.Current.Bytes = r.U64("current bytes")
	s.Age = time.Duration(min(r.U64("age"), 1<<32)) * time.Second
	s.SinceUse = time.Duration(min(r.U64("since use"), 1<<32)) * time.Second
	e.Src = r.Addr("source").Addr()
	e.Dst = r.Addr("destination").Addr()
	if r.Err == nil && (!e.Src.IsValid() || !e.Dst.IsValid() || e.Src.Is4() != e.Dst.Is4()) {
		r.Fail("addresses", fmt.Errorf("source and destination must be of one family"))
	}
	if opt&1 != 0 {
		e.Hard = readLifetime(r, "hard")
	}
	if opt&2 != 0 {
		e.Soft = readLifetime(r, "soft")
	}
	if opt&4 != 0 {
		n := &pfkey.NATT{}
		n.Type = r.U8("NAT-T type")
		r.Zero("NAT-T reserved", 1)
		n.SPort = r.U16("NAT-T source port")
		n.DPort = r.U16("NAT-T destination port")
		n.Frag = r.U16("NAT-T fragment")
		n.OAI = r.Addr("NAT-T OAI").Addr()
		n.OAR = r.Addr("NAT-T OAR").Addr()
		e.NATT = n
	}
	e.Keys.Auth = r.Bytes("auth key", na)
	e.Keys.Enc = r.Bytes("enc key", ne)
	if r.Err == nil && r.Left() != 0 {
		r.Fail("end", fmt.Errorf("%d octets after the last field", r.Left()))
	}
	if r.Err != nil {
		e.Wipe()
		return nil, r.Err
	}
	return s, nil
}

func checkRecHeader(r *wire.Reader, t uint8, n int) {
	if got := r.U8("type"); r.Err == nil && got != t {
		r.Fail("type", fmt.Errorf("record type %d, want %d", got, t))
	}
	if v := r.U8("version"); r.Err == nil && v != RecordVersion {
		r.Fail("version", fmt.Errorf("version %d not supported (want %d)", v, RecordVersion))
	}
	if l := r.U16("length"); r.Err == nil && int(l) != n {
		r.Fail("length", fmt.Errorf("length field %d, have %d octets", l, n))
	}
}

// AppendPolicy appends the record of one policy.
func AppendPolicy(b []byte, p *pfkey.PolicyEntry) ([]byte, error) {
	if len(p.Requests) > maxRequests {
		return b, fmt.Errorf("ipsecmod: policy record %v: %d requests, at most %d", p, len(p.Requests), maxRequests)
	}
	if !p.Src.IsValid() || !p.Dst.IsValid() {
		return b, fmt.Errorf("ipsecmod: policy record %v: selector without prefixes", p)
	}
	start := len(b)
	b = append(b, RecSP, RecordVersion, 0, 0)
	b = append(b, uint8(p.Dir), uint8(p.Proto))
	b = binary.BigEndian.AppendUint16(b, uint16(p.Type))
	b = binary.BigEndian.AppendUint32(b, p.Priority)
	b = binary.BigEndian.AppendUint32(b, p.ID)
	b = append(b, uint8(p.Src.Bits()), uint8(p.Dst.Bits()), uint8(p.Scope), uint8(len(p.Requests)))
	var opt uint8
	if p.Hard != nil {
		opt |= 1
	}
	if p.Soft != nil {
		opt |= 2
	}
	b = append(b, opt, 0, 0, 0)
	b = wire.AppendAddr(b, netip.AddrPortFrom(p.Src.Addr(), p.SrcPort))
	b = wire.AppendAddr(b, netip.AddrPortFrom(p.Dst.Addr(), p.DstPort))
	if p.Hard != nil {
		b = appendLifetime(b, p.Hard)
	}
	if p.Soft != nil {
		b = appendLifetime(b, p.Soft)
	}
	for _, q := range p.Requests {
		b = append(b, uint8(q.Proto), uint8(q.Mode), uint8(q.Level), 0)
		b = binary.BigEndian.AppendUint32(b, q.ReqID)
		b = wire.AppendAddr(b, q.Src)
		b = wire.AppendAddr(b, q.Dst)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b, nil
}

// ParsePolicy decodes exactly one policy record.
func ParsePolicy(b []byte) (*pfkey.PolicyEntry, error) {
	r := &wire.Reader{B: b, What: "ipsecmod: policy record"}
	checkRecHeader(r, RecSP, len(b))
	p := &pfkey.PolicyEntry{}
	p.Dir = pfkey.Direction(r.U8("direction"))
	p.Proto = pfkey.Proto(r.U8("proto"))
	p.Type = pfkey.PolicyType(r.U16("policy type"))
	p.Priority = r.U32("priority")
	p.ID = r.U32("id")
	sb, db := int(r.U8("source prefix length")), int(r.U8("destination prefix length"))
	p.Scope = pfkey.PolicyScope(r.U8("scope"))
	nreq := int(r.U8("request count"))
	if r.Err == nil && nreq > maxRequests {
		r.Fail("request count", fmt.Errorf("%d, at most %d", nreq, maxRequests))
	}
	opt := r.U8("optional parts")
	if r.Err == nil && opt&^3 != 0 {
		r.Fail("optional parts", fmt.Errorf("unknown bits 0x%02x", opt))
	}
	r.Zero("reserved", 3)
	src, dst := r.Addr("source"), r.Addr("destination")
	if r.Err == nil {
		if !src.Addr().IsValid() || !dst.Addr().IsValid() || sb > src.Addr().BitLen() || db > dst.Addr().BitLen() {
			r.Fail("selector", fmt.Errorf("bad prefix %v/%d or %v/%d", src.Addr(), sb, dst.Addr(), db))
		}
		p.Src = netip.PrefixFrom(src.Addr(), sb)
		p.Dst = netip.PrefixFrom(dst.Addr(), db)
		p.SrcPort, p.DstPort = src.Port(), dst.Port()
	}
	if opt&1 != 0 {
		p.Hard = readLifetime(r, "hard")
	}
	if opt&2 != 0 {
		p.Soft = readLifetime(r, "soft")
	}
	for i := 0; i < nreq && r.Err == nil; i++ {
		var q pfkey.IPSecRequest
		q.Proto = pfkey.Proto(r.U8("request proto"))
		q.Mode = pfkey.Mode(r.U8("request mode"))
		q.Level = pfkey.Level(r.U8("request level"))
		r.Zero("request reserved", 1)
		q.ReqID = r.U32("request reqid")
		q.Src = r.Addr("request source")
		q.Dst = r.Addr("request destination")
		p.Requests = append(p.Requests, q)
	}
	if r.Err == nil && r.Left() != 0 {
		r.Fail("end", fmt.Errorf("%d octets after the last field", r.Left()))
	}
	if r.Err != nil {
		return nil, r.Err
	}
	return p, nil
}

// AppendIKEv1 appends the record of one phase-1 SA: the 4-octet record
// header then the Phase1Context encoding of racoon/admin.
func AppendIKEv1(b []byte, pc *admin.Phase1Context) ([]byte, error) {
	start := len(b)
	b = append(b, RecIKEv1, RecordVersion, 0, 0)
	b, err := pc.AppendBinary(b)
	if err != nil {
		return b[:start], err
	}
	n := len(b) - start
	if n > 0xffff {
		clear(b[start:])
		return b[:start], fmt.Errorf("ipsecmod: IKEv1 record %v: %d octets, more than 65535", pc, n)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	return b, nil
}

// ParseIKEv1 decodes exactly one IKEv1 record.
func ParseIKEv1(b []byte) (*admin.Phase1Context, error) {
	r := &wire.Reader{B: b, What: "ipsecmod: IKEv1 record"}
	checkRecHeader(r, RecIKEv1, len(b))
	if r.Err != nil {
		return nil, r.Err
	}
	pc, err := admin.ParsePhase1Context(b[recHdrLen:])
	if err != nil {
		return nil, fmt.Errorf("ipsecmod: IKEv1 record: %w", err)
	}
	return pc, nil
}

// AppendIKEv2 appends the record of one IKEv2 SA (layout in ikev2ctx).
func AppendIKEv2(b []byte, sa *ikev2ctx.SA) ([]byte, error) { return sa.AppendBinary(b) }

// ParseIKEv2 decodes exactly one IKEv2 record.
func ParseIKEv2(b []byte) (*ikev2ctx.SA, error) { return ikev2ctx.Parse(b) }
