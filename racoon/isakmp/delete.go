package isakmp

import (
	"encoding/binary"
	"fmt"
)

// Delete is the Delete payload (RFC 2408 section 3.15):
//
//	DOI (4) | Protocol-Id (1) | SPI Size (1) | # of SPIs (2) | SPIs
//
// For ISAKMP SAs the SPI is the 16-byte cookie pair.
type Delete struct {
	DOI        uint32
	ProtocolID ProtocolID
	SPISize    uint8
	SPIs       [][]byte
}

func (d *Delete) PayloadType() PayloadType { return PayloadDelete }

func (d *Delete) AppendBody(b []byte) ([]byte, error) {
	if len(d.SPIs) > 0xffff {
		return nil, fmt.Errorf("%d SPIs", len(d.SPIs))
	}
	b = binary.BigEndian.AppendUint32(b, d.DOI)
	b = append(b, byte(d.ProtocolID), d.SPISize)
	b = binary.BigEndian.AppendUint16(b, uint16(len(d.SPIs)))
	for i, s := range d.SPIs {
		if len(s) != int(d.SPISize) {
			return nil, fmt.Errorf("SPI %d has %d bytes, SPI size is %d", i, len(s), d.SPISize)
		}
		b = append(b, s...)
	}
	return b, nil
}

func (d *Delete) DecodeBody(b []byte) error {
	if len(b) < 8 {
		return errf("Delete payload", 0, "%d bytes, shorter than DOI, protocol, SPI size and count", len(b))
	}
	d.DOI = binary.BigEndian.Uint32(b)
	d.ProtocolID = ProtocolID(b[4])
	d.SPISize = b[5]
	n := int(binary.BigEndian.Uint16(b[6:]))
	if want := n * int(d.SPISize); want != len(b)-8 {
		return errf("Delete payload", 6, "%d SPIs of %d bytes need %d bytes, %d follow", n, d.SPISize, want, len(b)-8)
	}
	d.SPIs = make([][]byte, n)
	for i := range d.SPIs {
		off := 8 + i*int(d.SPISize)
		d.SPIs[i] = append([]byte(nil), b[off:off+int(d.SPISize)]...)
	}
	return nil
}
