package admin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/ikectx/ikectx/pfkey"
)

// Sizes of the C structs on LP64 (shared/notes/racoon-admin-protocol.md).
const (
	HeaderLen      = 8   // struct admin_com
	IndexesLen     = 264 // struct admin_com_indexes
	PSKLen         = 24  // struct admin_com_psk
	Ph1DumpLen     = 304 // struct ph1dump
	EvtAsyncLen    = 280 // struct evt_async
	SockaddrStorSz = 128 // struct sockaddr_storage
	IndexLen       = 16  // isakmp_index
	// MaxRequest is the largest request: ac_len has 16 bits.
	MaxRequest = 0xffff
	// MaxReply bounds what a client accepts (long replies have 32 bits).
	MaxReply = 64 << 20
)

// ParseError is a malformed admin message or struct.
type ParseError struct {
	What string // "request", "reply", "admin_com_indexes", ...
	Off  int
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("admin: %s: offset %d: %s", e.What, e.Off, e.Msg)
}

func perr(what string, off int, format string, args ...any) error {
	return &ParseError{What: what, Off: off, Msg: fmt.Sprintf(format, args...)}
}

func app16(bo binary.ByteOrder, b []byte, v uint16) []byte {
	var x [2]byte
	bo.PutUint16(x[:], v)
	return append(b, x[:]...)
}

func app32(bo binary.ByteOrder, b []byte, v uint32) []byte {
	var x [4]byte
	bo.PutUint32(x[:], v)
	return append(b, x[:]...)
}

func app64(bo binary.ByteOrder, b []byte, v uint64) []byte {
	var x [8]byte
	bo.PutUint64(x[:], v)
	return append(b, x[:]...)
}

func dialectOr(d *pfkey.Dialect) *pfkey.Dialect {
	if d == nil {
		return pfkey.Native
	}
	return d
}

// Request is one admin request.
type Request struct {
	Cmd Command
	// Versioned is the ADMIN_FLAG_VERSION bit; Version is ac_version,
	// meaningful only with it (racoonctl sends version 1).
	Versioned bool
	Version   uint16
	Proto     Proto
	Payload   []byte
}

// Reply is one admin reply.
type Reply struct {
	Cmd     Command
	Proto   Proto
	Errno   int16 // 0 for long replies
	Payload []byte
}

// AppendRequest encodes r in dialect d's byte order.
func AppendRequest(d *pfkey.Dialect, b []byte, r *Request) ([]byte, error) {
	d = dialectOr(d)
	n := HeaderLen + len(r.Payload)
	if n > MaxRequest {
		return b, fmt.Errorf("admin: %v request of %d bytes, at most %d", r.Cmd, n, MaxRequest)
	}
	if r.Cmd&FlagVersion != 0 {
		return b, fmt.Errorf("admin: command 0x%04x has the flag bit set", uint16(r.Cmd))
	}
	cmd := uint16(r.Cmd)
	var ver uint16
	if r.Versioned {
		cmd |= FlagVersion
		ver = r.Version
	}
	bo := d.ByteOrder
	b = app16(bo, b, uint16(n))
	b = app16(bo, b, cmd)
	b = app16(bo, b, ver)
	b = app16(bo, b, uint16(r.Proto))
	return append(b, r.Payload...), nil
}

// RequestLen returns ac_len of a request header (the bytes to read).
func RequestLen(d *pfkey.Dialect, hdr []byte) int {
	return int(dialectOr(d).ByteOrder.Uint16(hdr))
}

// ParseRequest decodes a request; b must be exactly ac_len bytes. The
// payload aliases b.
func ParseRequest(d *pfkey.Dialect, b []byte) (*Request, error) {
	bo := dialectOr(d).ByteOrder
	if len(b) < HeaderLen {
		return nil, perr("request", 0, "%d bytes, shorter than the header", len(b))
	}
	n := int(bo.Uint16(b))
	if n < HeaderLen {
		return nil, perr("request", 0, "ac_len %d is shorter than the header", n)
	}
	if n != len(b) {
		return nil, perr("request", 0, "ac_len %d, got %d bytes", n, len(b))
	}
	cmd := bo.Uint16(b[2:])
	r := &Request{Proto: Proto(bo.Uint16(b[6:])), Payload: b[HeaderLen:]}
	if cmd&FlagVersion != 0 {
		r.Versioned = true
		r.Version = bo.Uint16(b[4:])
	}
	r.Cmd = Command(cmd &^ FlagVersion)
	return r, nil
}

// AppendReply encodes r as admin_reply does: a reply longer than 0xffff
// bytes without an errno is a long reply.
func AppendReply(d *pfkey.Dialect, b []byte, r *Reply) ([]byte, error) {
	bo := dialectOr(d).ByteOrder
	n := HeaderLen + len(r.Payload)
	if uint64(n) > 0xffffffff {
		return b, fmt.Errorf("admin: reply of %d bytes", n)
	}
	cmd := uint16(r.Cmd) &^ FlagLongReply
	third := uint16(r.Errno)
	if n > 0xffff {
		if r.Errno != 0 {
			return b, fmt.Errorf("admin: reply of %d bytes with errno %d", n, r.Errno)
		}
		cmd |= FlagLongReply
		third = uint16(n >> 16)
	}
	b = app16(bo, b, uint16(n))
	b = app16(bo, b, cmd)
	b = app16(bo, b, third)
	b = app16(bo, b, uint16(r.Proto))
	return append(b, r.Payload...), nil
}

// ReplyLen returns the total length announced by a reply header.
func ReplyLen(d *pfkey.Dialect, hdr []byte) int {
	bo := dialectOr(d).ByteOrder
	n := int(bo.Uint16(hdr))
	if bo.Uint16(hdr[2:])&FlagLongReply != 0 {
		n += int(bo.Uint16(hdr[4:])) << 16
	}
	return n
}

// ParseReply decodes a reply; b must be exactly its announced length. The
// payload aliases b.
func ParseReply(d *pfkey.Dialect, b []byte) (*Reply, error) {
	bo := dialectOr(d).ByteOrder
	if len(b) < HeaderLen {
		return nil, perr("reply", 0, "%d bytes, shorter than the header", len(b))
	}
	n := ReplyLen(d, b)
	if n < HeaderLen {
		return nil, perr("reply", 0, "length %d is shorter than the header", n)
	}
	if n != len(b) {
		return nil, perr("reply", 0, "length %d, got %d bytes", n, len(b))
	}
	cmd := bo.Uint16(b[2:])
	r := &Reply{Cmd: Command(cmd &^ FlagLongReply), Proto: Proto(bo.Uint16(b[6:])), Payload: b[HeaderLen:]}
	if cmd&FlagLongReply == 0 {
		r.Errno = int16(bo.Uint16(b[4:]))
	}
	return r, nil
}

// appendStorage appends a 128-byte sockaddr_storage holding ap (all zero
// for an invalid ap).
func appendStorage(d *pfkey.Dialect, b []byte, ap netip.AddrPort) ([]byte, error) {
	off := len(b)
	if ap.IsValid() {
		var err error
		if b, err = d.AppendSockaddr(b, ap); err != nil {
			return b[:off], err
		}
	}
	return append(b, make([]byte, SockaddrStorSz-(len(b)-off))...), nil
}

// parseStorage decodes a sockaddr_storage; family 0 is the invalid
// AddrPort. Bytes after the sockaddr are ignored (C copies them around).
func parseStorage(d *pfkey.Dialect, b []byte) (netip.AddrPort, error) {
	fam := 0
	if d.SockaddrLen {
		fam = int(b[1])
	} else {
		fam = int(d.ByteOrder.Uint16(b))
	}
	if fam == 0 {
		return netip.AddrPort{}, nil
	}
	ap, _, err := d.ParseSockaddr(b[:SockaddrStorSz])
	return ap, err
}

// AppendIndexes encodes struct admin_com_indexes.
func AppendIndexes(d *pfkey.Dialect, b []byte, x *Indexes) ([]byte, error) {
	d = dialectOr(d)
	off := len(b)
	b = append(b, x.PrefS, x.PrefD, x.ULProto, 0, 0, 0, 0, 0)
	var err error
	if b, err = appendStorage(d, b, x.Src); err != nil {
		return b[:off], fmt.Errorf("admin: admin_com_indexes src %v: %w", x.Src, err)
	}
	if b, err = appendStorage(d, b, x.Dst); err != nil {
		return b[:off], fmt.Errorf("admin: admin_com_indexes dst %v: %w", x.Dst, err)
	}
	return b, nil
}

// ParseIndexes decodes struct admin_com_indexes at the start of b.
func ParseIndexes(d *pfkey.Dialect, b []byte) (*Indexes, error) {
	d = dialectOr(d)
	if len(b) < IndexesLen {
		return nil, perr("admin_com_indexes", 0, "%d bytes, want %d", len(b), IndexesLen)
	}
	x := &Indexes{PrefS: b[0], PrefD: b[1], ULProto: b[2]}
	var err error
	if x.Src, err = parseStorage(d, b[8:]); err != nil {
		return nil, perr("admin_com_indexes", 8, "src: %v", err)
	}
	if x.Dst, err = parseStorage(d, b[136:]); err != nil {
		return nil, perr("admin_com_indexes", 136, "dst: %v", err)
	}
	return x, nil
}

// PSK is struct admin_com_psk with the id and key that follow it.
type PSK struct {
	IDType int32
	ID     []byte
	Key    Secret
}

// AppendPSK encodes struct admin_com_psk followed by the id and the key.
func AppendPSK(d *pfkey.Dialect, b []byte, p *PSK) []byte {
	bo := dialectOr(d).ByteOrder
	b = app32(bo, b, uint32(p.IDType))
	b = append(b, 0, 0, 0, 0)
	b = app64(bo, b, uint64(len(p.ID)))
	b = app64(bo, b, uint64(len(p.Key)))
	b = append(b, p.ID...)
	return append(b, p.Key...)
}

// ParsePSK decodes struct admin_com_psk and the id and key bytes that
// follow; the lengths must fit in b. ID and Key are copies.
func ParsePSK(d *pfkey.Dialect, b []byte) (*PSK, error) {
	bo := dialectOr(d).ByteOrder
	if len(b) < PSKLen {
		return nil, perr("admin_com_psk", 0, "%d bytes, want %d", len(b), PSKLen)
	}
	idLen, keyLen := bo.Uint64(b[8:]), bo.Uint64(b[16:])
	rest := uint64(len(b) - PSKLen)
	if idLen > rest || keyLen > rest-idLen {
		return nil, perr("admin_com_psk", 8, "id_len %d + key_len %d exceed the %d bytes left", idLen, keyLen, rest)
	}
	p := &PSK{IDType: int32(bo.Uint32(b))}
	p.ID = append([]byte(nil), b[PSKLen:PSKLen+int(idLen)]...)
	p.Key = append(Secret(nil), b[PSKLen+int(idLen):PSKLen+int(idLen+keyLen)]...)
	return p, nil
}

// AppendPh1Dump encodes one struct ph1dump.
func AppendPh1Dump(d *pfkey.Dialect, b []byte, p *Phase1Info) ([]byte, error) {
	d = dialectOr(d)
	bo := d.ByteOrder
	off := len(b)
	b = append(b, p.Index.I[:]...)
	b = append(b, p.Index.R[:]...)
	b = app32(bo, b, uint32(p.Status))
	b = app32(bo, b, uint32(p.Side))
	var err error
	if b, err = appendStorage(d, b, p.Remote); err != nil {
		return b[:off], fmt.Errorf("admin: ph1dump remote %v: %w", p.Remote, err)
	}
	if b, err = appendStorage(d, b, p.Local); err != nil {
		return b[:off], fmt.Errorf("admin: ph1dump local %v: %w", p.Local, err)
	}
	b = append(b, p.Version, p.EType, 0, 0, 0, 0, 0, 0)
	var created int64
	if !p.Created.IsZero() {
		created = p.Created.Unix()
	}
	b = app64(bo, b, uint64(created))
	b = app32(bo, b, uint32(p.Ph2Cnt))
	return append(b, 0, 0, 0, 0), nil
}

// ParsePh1Dump decodes one struct ph1dump at the start of b.
func ParsePh1Dump(d *pfkey.Dialect, b []byte) (*Phase1Info, error) {
	d = dialectOr(d)
	bo := d.ByteOrder
	if len(b) < Ph1DumpLen {
		return nil, perr("ph1dump", 0, "%d bytes, want %d", len(b), Ph1DumpLen)
	}
	p := &Phase1Info{
		Status:  int32(bo.Uint32(b[16:])),
		Side:    Side(bo.Uint32(b[20:])),
		Version: b[280],
		EType:   b[281],
		Ph2Cnt:  int32(bo.Uint32(b[296:])),
	}
	copy(p.Index.I[:], b[0:8])
	copy(p.Index.R[:], b[8:16])
	var err error
	if p.Remote, err = parseStorage(d, b[24:]); err != nil {
		return nil, perr("ph1dump", 24, "remote: %v", err)
	}
	if p.Local, err = parseStorage(d, b[152:]); err != nil {
		return nil, perr("ph1dump", 152, "local: %v", err)
	}
	if s := int64(bo.Uint64(b[288:])); s != 0 {
		p.Created = time.Unix(s, 0)
	}
	return p, nil
}

// ParsePh1Dumps decodes a SHOW_SA isakmp payload: whole records only; a
// length that is not a multiple of 304 is an error after the records (as
// racoonctl, which prints "invalid length" and then the whole records).
func ParsePh1Dumps(d *pfkey.Dialect, b []byte) ([]Phase1Info, error) {
	var out []Phase1Info
	for off := 0; off+Ph1DumpLen <= len(b); off += Ph1DumpLen {
		p, err := ParsePh1Dump(d, b[off:])
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				pe.Off += off
			}
			return out, err
		}
		out = append(out, *p)
	}
	if len(b)%Ph1DumpLen != 0 {
		return out, perr("ph1dump", len(b), "invalid length %d", len(b))
	}
	return out, nil
}

// AppendEvent encodes one struct evt_async.
func AppendEvent(d *pfkey.Dialect, b []byte, e *Event) ([]byte, error) {
	d = dialectOr(d)
	bo := d.ByteOrder
	off := len(b)
	b = app32(bo, b, e.Type)
	b = append(b, 0, 0, 0, 0)
	var ts int64
	if !e.Time.IsZero() {
		ts = e.Time.Unix()
	}
	b = app64(bo, b, uint64(ts))
	var err error
	if b, err = appendStorage(d, b, e.Ph1Src); err != nil {
		return b[:off], err
	}
	if b, err = appendStorage(d, b, e.Ph1Dst); err != nil {
		return b[:off], err
	}
	b = app32(bo, b, e.Ph2MsgID)
	return append(b, 0, 0, 0, 0), nil
}

// ParseEvent decodes one struct evt_async at the start of b.
func ParseEvent(d *pfkey.Dialect, b []byte) (*Event, error) {
	d = dialectOr(d)
	bo := d.ByteOrder
	if len(b) < EvtAsyncLen {
		return nil, perr("evt_async", 0, "%d bytes, want %d", len(b), EvtAsyncLen)
	}
	e := &Event{Type: bo.Uint32(b), Ph2MsgID: bo.Uint32(b[272:])}
	if ts := int64(bo.Uint64(b[8:])); ts != 0 {
		e.Time = time.Unix(ts, 0)
	}
	var err error
	if e.Ph1Src, err = parseStorage(d, b[16:]); err != nil {
		return nil, perr("evt_async", 16, "src: %v", err)
	}
	if e.Ph1Dst, err = parseStorage(d, b[144:]); err != nil {
		return nil, perr("evt_async", 144, "dst: %v", err)
	}
	return e, nil
}

// ExportRequest is the payload of EXPORT_PH1: the phase 1's local and
// remote addresses, and optionally its cookies.
func appendExportRequest(d *pfkey.Dialect, b []byte, sel Selector) ([]byte, error) {
	b, err := AppendIndexes(d, b, &Indexes{Src: sel.Local, Dst: sel.Remote})
	if err != nil {
		return b, err
	}
	if !sel.Index.IsZero() {
		b = append(b, sel.Index.I[:]...)
		b = append(b, sel.Index.R[:]...)
	}
	return b, nil
}

func parseExportRequest(d *pfkey.Dialect, b []byte) (Selector, error) {
	x, err := ParseIndexes(d, b)
	if err != nil {
		return Selector{}, err
	}
	sel := Selector{Local: x.Src, Remote: x.Dst}
	switch len(b) - IndexesLen {
	case 0:
	case IndexLen:
		copy(sel.Index.I[:], b[IndexesLen:])
		copy(sel.Index.R[:], b[IndexesLen+8:])
	default:
		return Selector{}, perr("EXPORT_PH1", IndexesLen, "%d bytes after admin_com_indexes, want 0 or 16", len(b)-IndexesLen)
	}
	return sel, nil
}

// ParseSADump splits a SHOW_SA ipsec/esp/ah payload into its PF_KEY
// messages, as racoonctl walks it: messages until one with sequence 0. A
// single message with an errno (ENOENT: no SAs) is returned as is; the
// caller checks Errno.
func ParseSADump(d *pfkey.Dialect, b []byte) ([]*pfkey.Message, error) {
	d = dialectOr(d)
	var out []*pfkey.Message
	off := 0
	for off < len(b) {
		if len(b)-off < 16 {
			return out, perr("SADB dump", off, "%d bytes left, shorter than sadb_msg", len(b)-off)
		}
		n := int(d.ByteOrder.Uint16(b[off+4:])) * 8
		if n < 16 || n > len(b)-off {
			return out, perr("SADB dump", off, "sadb_msg_len %d bytes, %d left", n, len(b)-off)
		}
		m, err := d.Unmarshal(b[off : off+n])
		if err != nil {
			// An error reply is a bare header; keep what we can.
			return out, perr("SADB dump", off, "%v", err)
		}
		out = append(out, m)
		off += n
		if m.Errno != 0 || m.Seq == 0 {
			break
		}
	}
	if off != len(b) {
		return out, perr("SADB dump", off, "%d bytes after the last message", len(b)-off)
	}
	return out, nil
}

// AppendSADump encodes SAs as racoon's pfkey_dump_sadb returns the kernel's
// SADB_DUMP replies: one message per SA, sequence numbers counting down to
// 0, the given pid; no SAs give one bare header with errno ENOENT (errno is
// the system's value).
func AppendSADump(d *pfkey.Dialect, b []byte, t pfkey.SAType, sas []*pfkey.SAEntry, pid uint32, enoent uint8) ([]byte, error) {
	d = dialectOr(d)
	if len(sas) == 0 {
		return d.Append(b, &pfkey.Message{Type: pfkey.MsgDump, SAType: t, Errno: enoent, PID: pid})
	}
	for i, e := range sas {
		m := e.Message(pfkey.MsgDump)
		cur := e.Current
		m.LifetimeCurrent = &cur
		m.Seq = uint32(len(sas) - 1 - i)
		m.PID = pid
		var err error
		b, err = d.Append(b, m)
		m.Wipe()
		if err != nil {
			return b, fmt.Errorf("admin: SA dump: %v: %w", e, err)
		}
	}
	return b, nil
}
