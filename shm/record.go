package shm

import (
	"fmt"
	"hash/crc32"
	"net/netip"
)

// Op is the operation a request asks of the context module.
type Op uint8

// Operations of the paper's Figure 3. Other nonzero values are carried as
// they are, for context modules that define more.
const (
	OpCapture    Op = 1 // pAR: write the MN's context for this FPT as the result data
	OpPreinstall Op = 2 // nAR: install the context in data, not active yet
	OpActivate   Op = 3 // nAR: switch the pre-installed context on (data: module-defined, e.g. nCoA)
	OpDiscard    Op = 4 // nAR: remove a pre-installed context
)

func (o Op) String() string {
	switch o {
	case OpCapture:
		return "CAPTURE"
	case OpPreinstall:
		return "PREINSTALL"
	case OpActivate:
		return "ACTIVATE"
	case OpDiscard:
		return "DISCARD"
	}
	return fmt.Sprintf("OP(%d)", uint8(o))
}

// Status is the result code the context module reports.
type Status uint16

// Result codes. Context modules may use other values; 0 is success.
const (
	StatusOK          Status = 0
	StatusFailed      Status = 1 // the operation failed
	StatusUnsupported Status = 2 // unknown FPT or operation
	StatusNoContext   Status = 3 // nothing known for this MN
	StatusInvalid     Status = 4 // the request's data could not be used
	StatusCollision   Status = 5 // e.g. an SPI already in use on this router
	StatusCorrupt     Status = 6 // the request failed its checksum
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusFailed:
		return "failed"
	case StatusUnsupported:
		return "unsupported"
	case StatusNoContext:
		return "no context"
	case StatusInvalid:
		return "invalid"
	case StatusCollision:
		return "collision"
	case StatusCorrupt:
		return "corrupt request"
	}
	return fmt.Sprintf("status %d", uint16(s))
}

// Record is the contents of one committed slot copy: a request or a result.
type Record struct {
	Seq    uint32     // generation at which it was committed
	Op     Op         // operation
	FPT    uint16     // Feature Profile Type
	MN     netip.Addr // the mobile node's address; invalid (zero) if none
	Status Status     // result code (0 in requests)
	Tag    uint64     // the CXTP module's cookie, copied into the result
	Data   []byte     // context bytes, at most the segment's MaxData
}

// Family codes of the MN address field.
const (
	familyNone = 0
	family4    = 4
	family6    = 6
)

// encodeRecord writes r into the record area b (at least RecordHeaderSize +
// len(r.Data) bytes): the data first, then the header fields, then the
// checksum. It does not publish anything.
func encodeRecord(b []byte, r *Record, maxData int) error {
	if r.Op == 0 {
		return fmt.Errorf("record: operation 0 is invalid")
	}
	if len(r.Data) > maxData {
		return fmt.Errorf("record: %d data bytes, the segment holds at most %d", len(r.Data), maxData)
	}
	if len(b) < RecordHeaderSize+len(r.Data) {
		return fmt.Errorf("record: area of %d bytes too small", len(b))
	}
	copy(b[rData:], r.Data)
	ne.PutUint32(b[rSeq:], r.Seq)
	b[rOp] = byte(r.Op)
	var addr [16]byte
	switch {
	case !r.MN.IsValid():
		b[rFamily] = familyNone
	case r.MN.Is4():
		b[rFamily] = family4
		a := r.MN.As4()
		copy(addr[:], a[:])
	default:
		if r.MN.Zone() != "" {
			return fmt.Errorf("record: MN address %s has a zone", r.MN)
		}
		b[rFamily] = family6
		addr = r.MN.As16()
	}
	ne.PutUint16(b[rFPT:], r.FPT)
	ne.PutUint16(b[rStatus:], uint16(r.Status))
	ne.PutUint16(b[rFlags:], 0)
	ne.PutUint32(b[rLen:], uint32(len(r.Data)))
	copy(b[rAddr:rAddr+16], addr[:])
	ne.PutUint64(b[rTag:], r.Tag)
	ne.PutUint32(b[rRsvd:], 0)
	ne.PutUint32(b[rCRC:], recordCRC(b, len(r.Data)))
	return nil
}

func recordCRC(b []byte, n int) uint32 {
	c := crc32.Update(0, castagnoli, b[:crcCover])
	return crc32.Update(c, castagnoli, b[rData:rData+n])
}

// decodeRecord decodes and checks the record area b. The data is copied.
func decodeRecord(b []byte, maxData int) (Record, error) {
	var r Record
	if len(b) < RecordHeaderSize {
		return r, fmt.Errorf("record: %d bytes, need %d", len(b), RecordHeaderSize)
	}
	n := ne.Uint32(b[rLen:])
	if uint64(n) > uint64(maxData) || int(n) > len(b)-rData {
		return r, fmt.Errorf("record: data length %d exceeds the slot's %d", n, min(maxData, len(b)-rData))
	}
	if got, want := ne.Uint32(b[rCRC:]), recordCRC(b, int(n)); got != want {
		return r, fmt.Errorf("record: checksum %#08x, computed %#08x", got, want)
	}
	r.Seq = ne.Uint32(b[rSeq:])
	r.Op = Op(b[rOp])
	if r.Op == 0 {
		return r, fmt.Errorf("record: operation 0")
	}
	if f := ne.Uint16(b[rFlags:]); f != 0 {
		return r, fmt.Errorf("record: reserved flags %#04x set", f)
	}
	if v := ne.Uint32(b[rRsvd:]); v != 0 {
		return r, fmt.Errorf("record: reserved word %#08x set", v)
	}
	a := b[rAddr : rAddr+16]
	switch b[rFamily] {
	case familyNone:
		if !allZero(a) {
			return r, fmt.Errorf("record: address bytes set with family 0")
		}
	case family4:
		if !allZero(a[4:]) {
			return r, fmt.Errorf("record: IPv4 address with bytes 4..15 set")
		}
		r.MN = netip.AddrFrom4([4]byte(a[:4]))
	case family6:
		r.MN = netip.AddrFrom16([16]byte(a))
	default:
		return r, fmt.Errorf("record: unknown address family %d", b[rFamily])
	}
	r.FPT = ne.Uint16(b[rFPT:])
	r.Status = Status(ne.Uint16(b[rStatus:]))
	r.Tag = ne.Uint64(b[rTag:])
	r.Data = make([]byte, n)
	copy(r.Data, b[rData:rData+int(n)])
	return r, nil
}
