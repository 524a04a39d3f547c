package isakmp

import "encoding/binary"

// HeaderLen is the size of the ISAKMP header.
const HeaderLen = 28

// Version is the ISAKMP version this codec speaks: major 1, minor 0.
const Version uint8 = 0x10

// Header is the ISAKMP header (RFC 2408 section 3.1):
//
//	Initiator Cookie (8) | Responder Cookie (8) | Next Payload (1) |
//	MjVer(4) MnVer(4) | Exchange Type (1) | Flags (1) | Message ID (4) | Length (4)
type Header struct {
	InitiatorCookie [8]byte
	ResponderCookie [8]byte
	NextPayload     PayloadType
	Version         uint8 // major in the high nibble
	ExchangeType    ExchangeType
	Flags           uint8
	MessageID       uint32
	Length          uint32 // whole message, header included
}

// MajorVersion and MinorVersion split the version octet.
func (h *Header) MajorVersion() uint8 { return h.Version >> 4 }

// MinorVersion is the low nibble of the version octet.
func (h *Header) MinorVersion() uint8 { return h.Version & 0x0f }

// Encrypted reports the E flag.
func (h *Header) Encrypted() bool { return h.Flags&FlagEncryption != 0 }

// Commit reports the C flag.
func (h *Header) Commit() bool { return h.Flags&FlagCommit != 0 }

// AuthOnly reports the A flag.
func (h *Header) AuthOnly() bool { return h.Flags&FlagAuthentication != 0 }

// DecodeFromBytes reads the 28-byte header; it does not compare Length with
// len(b) (Parse does).
func (h *Header) DecodeFromBytes(b []byte) error {
	if len(b) < HeaderLen {
		return errf("header", 0, "%d bytes, shorter than the %d-byte ISAKMP header", len(b), HeaderLen)
	}
	copy(h.InitiatorCookie[:], b[0:8])
	copy(h.ResponderCookie[:], b[8:16])
	h.NextPayload = PayloadType(b[16])
	h.Version = b[17]
	h.ExchangeType = ExchangeType(b[18])
	h.Flags = b[19]
	h.MessageID = binary.BigEndian.Uint32(b[20:24])
	h.Length = binary.BigEndian.Uint32(b[24:28])
	if h.Length < HeaderLen {
		return errf("header", 24, "length %d is shorter than the header", h.Length)
	}
	return nil
}

// AppendBinary appends the header as it is (Length as set).
func (h *Header) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, h.InitiatorCookie[:]...)
	b = append(b, h.ResponderCookie[:]...)
	b = append(b, byte(h.NextPayload), h.Version, byte(h.ExchangeType), h.Flags)
	b = binary.BigEndian.AppendUint32(b, h.MessageID)
	b = binary.BigEndian.AppendUint32(b, h.Length)
	return b, nil
}
