package isakmp

import (
	"encoding/binary"
	"fmt"
)

// NotifyType is a Notify Message Type: the errors and status of RFC 2408
// section 3.14.1 and the IPsec DOI status types of RFC 2407 section 4.6.3.
type NotifyType uint16

const (
	InvalidPayloadType      NotifyType = 1
	DOINotSupported         NotifyType = 2
	SituationNotSupported   NotifyType = 3
	InvalidCookie           NotifyType = 4
	InvalidMajorVersion     NotifyType = 5
	InvalidMinorVersion     NotifyType = 6
	InvalidExchangeType     NotifyType = 7
	InvalidFlags            NotifyType = 8
	InvalidMessageID        NotifyType = 9
	InvalidProtocolID       NotifyType = 10
	InvalidSPI              NotifyType = 11
	InvalidTransformID      NotifyType = 12
	AttributesNotSupported  NotifyType = 13
	NoProposalChosen        NotifyType = 14
	BadProposalSyntax       NotifyType = 15
	PayloadMalformed        NotifyType = 16
	InvalidKeyInformation   NotifyType = 17
	InvalidIDInformation    NotifyType = 18
	InvalidCertEncoding     NotifyType = 19
	InvalidCertificate      NotifyType = 20
	CertTypeUnsupported     NotifyType = 21
	InvalidCertAuthority    NotifyType = 22
	InvalidHashInformation  NotifyType = 23
	AuthenticationFailed    NotifyType = 24
	InvalidSignature        NotifyType = 25
	AddressNotification     NotifyType = 26
	NotifySALifetime        NotifyType = 27
	CertificateUnavailable  NotifyType = 28
	UnsupportedExchangeType NotifyType = 29
	UnequalPayloadLengths   NotifyType = 30
	Connected               NotifyType = 16384
	ResponderLifetime       NotifyType = 24576
	ReplayStatus            NotifyType = 24577
	InitialContact          NotifyType = 24578
	DPDRUThere              NotifyType = 36136 // RFC 3706
	DPDRUThereAck           NotifyType = 36137
)

var notifyNames = map[NotifyType]string{
	1: "INVALID-PAYLOAD-TYPE", 2: "DOI-NOT-SUPPORTED", 3: "SITUATION-NOT-SUPPORTED", 4: "INVALID-COOKIE",
	5: "INVALID-MAJOR-VERSION", 6: "INVALID-MINOR-VERSION", 7: "INVALID-EXCHANGE-TYPE", 8: "INVALID-FLAGS",
	9: "INVALID-MESSAGE-ID", 10: "INVALID-PROTOCOL-ID", 11: "INVALID-SPI", 12: "INVALID-TRANSFORM-ID",
	13: "ATTRIBUTES-NOT-SUPPORTED", 14: "NO-PROPOSAL-CHOSEN", 15: "BAD-PROPOSAL-SYNTAX", 16: "PAYLOAD-MALFORMED",
	17: "INVALID-KEY-INFORMATION", 18: "INVALID-ID-INFORMATION", 19: "INVALID-CERT-ENCODING",
	20: "INVALID-CERTIFICATE", 21: "CERT-TYPE-UNSUPPORTED", 22: "INVALID-CERT-AUTHORITY",
	23: "INVALID-HASH-INFORMATION", 24: "AUTHENTICATION-FAILED", 25: "INVALID-SIGNATURE",
	26: "ADDRESS-NOTIFICATION", 27: "NOTIFY-SA-LIFETIME", 28: "CERTIFICATE-UNAVAILABLE",
	29: "UNSUPPORTED-EXCHANGE-TYPE", 30: "UNEQUAL-PAYLOAD-LENGTHS", 16384: "CONNECTED",
	24576: "RESPONDER-LIFETIME", 24577: "REPLAY-STATUS", 24578: "INITIAL-CONTACT",
	36136: "R-U-THERE", 36137: "R-U-THERE-ACK",
}

func (t NotifyType) String() string {
	if s, ok := notifyNames[t]; ok {
		return s
	}
	return fmt.Sprintf("NotifyType(%d)", uint16(t))
}

// IsError reports whether the type is in the error range (1-16383).
func (t NotifyType) IsError() bool { return t > 0 && t < 16384 }

// Notification is the Notification payload (RFC 2408 section 3.14):
//
//	DOI (4) | Protocol-ID (1) | SPI Size (1) | Notify Message Type (2) |
//	SPI (SPI Size) | Notification Data
type Notification struct {
	DOI        uint32
	ProtocolID ProtocolID
	Type       NotifyType
	SPI        []byte
	Data       []byte
}

func (n *Notification) PayloadType() PayloadType { return PayloadNotification }

func (n *Notification) AppendBody(b []byte) ([]byte, error) {
	if len(n.SPI) > 255 {
		return nil, fmt.Errorf("SPI of %d bytes", len(n.SPI))
	}
	b = binary.BigEndian.AppendUint32(b, n.DOI)
	b = append(b, byte(n.ProtocolID), byte(len(n.SPI)))
	b = binary.BigEndian.AppendUint16(b, uint16(n.Type))
	b = append(b, n.SPI...)
	return append(b, n.Data...), nil
}

func (n *Notification) DecodeBody(b []byte) error {
	if len(b) < 8 {
		return errf("Notification payload", 0, "%d bytes, shorter than DOI, protocol, SPI size and type", len(b))
	}
	n.DOI = binary.BigEndian.Uint32(b)
	n.ProtocolID = ProtocolID(b[4])
	spi := int(b[5])
	n.Type = NotifyType(binary.BigEndian.Uint16(b[6:]))
	if spi > len(b)-8 {
		return errf("Notification payload", 5, "SPI size %d runs past the payload (%d bytes left)", spi, len(b)-8)
	}
	n.SPI = append([]byte(nil), b[8:8+spi]...)
	n.Data = append([]byte(nil), b[8+spi:]...)
	return nil
}
