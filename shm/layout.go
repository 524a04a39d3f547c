package shm

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Layout constants; see the package documentation for the byte layout.
const (
	Magic            = "IKECXSHM"
	LayoutVersion    = 1
	HeaderSize       = 64
	SlotHeaderSize   = 16
	RecordHeaderSize = 48

	DefaultSlots   = 64
	DefaultMaxData = 8192
	MaxSlots       = 4096
	MaxDataLimit   = 1 << 20
	MaxSegmentSize = 1 << 30 // bound on the whole segment (also keeps sizes within a 32-bit int)
)

// Header field offsets.
const (
	hMagic      = 0
	hVersion    = 8
	hHeaderSize = 12
	hSlotCount  = 16
	hSlotSize   = 20
	hMaxData    = 24
	hCRC        = 28
	hPID        = 32 // + 4*role
	hEpoch      = 40 // + 4*role
	hBell       = 48 // + 8*role
)

// Slot header and record field offsets.
const (
	sCtl   = 0
	sOwner = 8
	sRsvd  = 12

	rSeq     = 0
	rOp      = 4
	rFamily  = 5
	rFPT     = 6
	rStatus  = 8
	rFlags   = 10
	rLen     = 12
	rAddr    = 16
	rTag     = 32
	rRsvd    = 40
	rCRC     = 44
	rData    = RecordHeaderSize
	crcCover = rCRC // header bytes covered by the checksum
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ne is the byte order of the layout: the host's.
var ne = binary.NativeEndian

// Geometry is the shape of the slot table.
type Geometry struct {
	Slots   int // number of slots
	MaxData int // maximum data bytes per slot
}

func align(n, a int) int { return (n + a - 1) / a * a }

// RecordSize is the size of one record copy.
func (g Geometry) RecordSize() int { return align(RecordHeaderSize+g.MaxData, 8) }

// SlotSize is the size of one slot (header and two record copies).
func (g Geometry) SlotSize() int { return align(SlotHeaderSize+2*g.RecordSize(), 64) }

// Size is the size of the whole segment.
func (g Geometry) Size() int { return HeaderSize + g.Slots*g.SlotSize() }

// Validate checks the geometry against the layout's limits.
func (g Geometry) Validate() error {
	if g.Slots < 1 || g.Slots > MaxSlots {
		return fmt.Errorf("slot count %d out of range 1..%d", g.Slots, MaxSlots)
	}
	if g.MaxData < 1 || g.MaxData > MaxDataLimit {
		return fmt.Errorf("max data %d out of range 1..%d", g.MaxData, MaxDataLimit)
	}
	if int64(g.Slots)*int64(g.SlotSize())+HeaderSize > MaxSegmentSize {
		return fmt.Errorf("%d slots of %d bytes exceed the %d-byte segment limit", g.Slots, g.MaxData, MaxSegmentSize)
	}
	return nil
}

func (g Geometry) slotOff(i int) int { return HeaderSize + i*g.SlotSize() }

func (g Geometry) recordOff(i int, copyIdx int) int {
	return g.slotOff(i) + SlotHeaderSize + copyIdx*g.RecordSize()
}

// Header is the decoded segment header.
type Header struct {
	Version  uint32
	Geometry Geometry
	SlotSize int
	PID      [2]uint32 // by Role
	Epoch    [2]uint32 // by Role
	Bell     [2]uint64 // by Role
}

// encodeStaticHeader writes the static part of the header (bytes 8..31) and
// its checksum over bytes 0..27 as they will be once the magic is stored. The
// magic itself is not written: the creator stores it last.
func encodeStaticHeader(b []byte, g Geometry) {
	ne.PutUint32(b[hVersion:], LayoutVersion)
	ne.PutUint32(b[hHeaderSize:], HeaderSize)
	ne.PutUint32(b[hSlotCount:], uint32(g.Slots))
	ne.PutUint32(b[hSlotSize:], uint32(g.SlotSize()))
	ne.PutUint32(b[hMaxData:], uint32(g.MaxData))
	var tmp [hCRC]byte
	copy(tmp[:], Magic)
	copy(tmp[8:], b[8:hCRC])
	ne.PutUint32(b[hCRC:], crc32.Checksum(tmp[:], castagnoli))
}

// errNoMagic means the header has no magic yet: the creator is still
// initializing (or died doing so).
var errNoMagic = fmt.Errorf("no magic (not initialized)")

// DecodeHeader decodes and checks a segment header. It checks the magic,
// version, header size, geometry and checksum; it does not need the slots.
func DecodeHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderSize {
		return h, fmt.Errorf("header: %d bytes, need %d", len(b), HeaderSize)
	}
	if string(b[:8]) != Magic {
		if allZero(b[:8]) {
			return h, fmt.Errorf("header: %w", errNoMagic)
		}
		return h, fmt.Errorf("header: bad magic %q", b[:8])
	}
	if v := ne.Uint32(b[hVersion:]); v != LayoutVersion {
		return h, fmt.Errorf("header: layout version %d, this program knows %d", v, LayoutVersion)
	}
	if hs := ne.Uint32(b[hHeaderSize:]); hs != HeaderSize {
		return h, fmt.Errorf("header: header size %d, want %d", hs, HeaderSize)
	}
	if got, want := ne.Uint32(b[hCRC:]), crc32.Checksum(b[:hCRC], castagnoli); got != want {
		return h, fmt.Errorf("header: checksum %#08x, computed %#08x", got, want)
	}
	h.Version = LayoutVersion
	slots, maxData := ne.Uint32(b[hSlotCount:]), ne.Uint32(b[hMaxData:])
	if slots > MaxSlots || maxData > MaxDataLimit {
		return h, fmt.Errorf("header: geometry %d slots x %d bytes out of range", slots, maxData)
	}
	h.Geometry = Geometry{Slots: int(slots), MaxData: int(maxData)}
	if err := h.Geometry.Validate(); err != nil {
		return h, fmt.Errorf("header: %v", err)
	}
	h.SlotSize = int(ne.Uint32(b[hSlotSize:]))
	if h.SlotSize != h.Geometry.SlotSize() {
		return h, fmt.Errorf("header: slot size %d, geometry needs %d", h.SlotSize, h.Geometry.SlotSize())
	}
	for r := 0; r < 2; r++ {
		h.PID[r] = ne.Uint32(b[hPID+4*r:])
		h.Epoch[r] = ne.Uint32(b[hEpoch+4*r:])
		h.Bell[r] = ne.Uint64(b[hBell+8*r:])
	}
	return h, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
