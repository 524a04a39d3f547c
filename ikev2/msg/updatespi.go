package msg

import (
	"errors"
	"fmt"
)

// UpdateSPI is the paper's UPDATE_SPI notification (section 3.2.4): a
// private-use status Notify whose Protocol ID (1 IKE, 2 AH, 3 ESP) and SPI
// name the SPI to change, and whose NOTIFICATION_DATA carries the new SPI
// and the D flag.
//
// Wire form of NOTIFICATION_DATA chosen by ikectx (the paper fixes the
// fields, not their layout): the new SPI, of the same size as the SPI
// field (4 octets for AH/ESP, 8 for IKE), followed by one flags octet
// whose most significant bit is D (0: the SPI is the original
// initiator's, 1: the responder's); the other seven bits are reserved,
// sent as zero and ignored.
type UpdateSPI struct {
	Protocol  ProtocolID
	SPI       []byte
	NewSPI    []byte
	Responder bool // the D flag
}

// FlagD is the D bit of UPDATE_SPI's flags octet.
const FlagD = 0x80

// Notify encodes u as a Notify payload of type t (the configured
// UPDATE_SPI type).
func (u UpdateSPI) Notify(t NotifyType) *Notify {
	d := append([]byte(nil), u.NewSPI...)
	f := byte(0)
	if u.Responder {
		f = FlagD
	}
	return &Notify{Protocol: u.Protocol, SPI: append([]byte(nil), u.SPI...), NotType: t, Data: append(d, f)}
}

// ErrUpdateSPI reports a malformed UPDATE_SPI notification.
var ErrUpdateSPI = errors.New("malformed UPDATE_SPI")

// ParseUpdateSPI decodes an UPDATE_SPI Notify.
func ParseUpdateSPI(n *Notify) (UpdateSPI, error) {
	var u UpdateSPI
	want := 0
	switch n.Protocol {
	case ProtoIKE:
		want = 8
	case ProtoAH, ProtoESP:
		want = 4
	default:
		return u, fmt.Errorf("%w: protocol %v", ErrUpdateSPI, n.Protocol)
	}
	if len(n.SPI) != want {
		return u, fmt.Errorf("%w: %v SPI of %d octets", ErrUpdateSPI, n.Protocol, len(n.SPI))
	}
	if len(n.Data) != want+1 {
		return u, fmt.Errorf("%w: notification data of %d octets, want %d", ErrUpdateSPI, len(n.Data), want+1)
	}
	u.Protocol = n.Protocol
	u.SPI = append([]byte(nil), n.SPI...)
	u.NewSPI = append([]byte(nil), n.Data[:want]...)
	u.Responder = n.Data[want]&FlagD != 0
	return u, nil
}
