// Package isakmp is the ISAKMP message codec of RFC 2408 with the IPsec
// DOI of RFC 2407 and the Oakley attributes of RFC 2409 appendix A: the
// header, the generic payload header and chain, SA/proposal/transform with
// data attributes (TV and TLV forms), KE, ID, CERT, CR, HASH, SIG, nonce,
// notification, delete and vendor ID payloads.
//
// Decoding never panics and checks every length: a payload may not run
// past its container, a header length must match the datagram, counts must
// match what follows. Errors name the payload type and the byte offset.
// Encoding computes every length and next-payload field itself.
//
// Layouts follow gopacket/layers: typed structs with DecodeFromBytes and
// AppendBinary (and Marshal/Parse for a whole message).
package isakmp

import "fmt"

// PayloadType is the Next Payload value of RFC 2408 section 3.1.
type PayloadType uint8

const (
	PayloadNone         PayloadType = 0
	PayloadSA           PayloadType = 1
	PayloadProposal     PayloadType = 2
	PayloadTransform    PayloadType = 3
	PayloadKE           PayloadType = 4
	PayloadID           PayloadType = 5
	PayloadCert         PayloadType = 6
	PayloadCR           PayloadType = 7
	PayloadHash         PayloadType = 8
	PayloadSig          PayloadType = 9
	PayloadNonce        PayloadType = 10
	PayloadNotification PayloadType = 11
	PayloadDelete       PayloadType = 12
	PayloadVendorID     PayloadType = 13
	PayloadAttribute    PayloadType = 14  // ISAKMP mode config (draft-dukes-ike-mode-cfg)
	PayloadNATD         PayloadType = 20  // RFC 3947
	PayloadNATOA        PayloadType = 21  // RFC 3947
	PayloadNATDDraft    PayloadType = 130 // draft-ietf-ipsec-nat-t-ike-02/03
	PayloadNATOADraft   PayloadType = 131
	PayloadFragment     PayloadType = 132 // racoon's IKE fragmentation
)

var payloadNames = map[PayloadType]string{
	PayloadNone: "NONE", PayloadSA: "SA", PayloadProposal: "Proposal", PayloadTransform: "Transform",
	PayloadKE: "KE", PayloadID: "ID", PayloadCert: "CERT", PayloadCR: "CR", PayloadHash: "HASH",
	PayloadSig: "SIG", PayloadNonce: "Nonce", PayloadNotification: "Notification", PayloadDelete: "Delete",
	PayloadVendorID: "VendorID", PayloadAttribute: "Attribute", PayloadNATD: "NAT-D", PayloadNATOA: "NAT-OA",
	PayloadNATDDraft: "NAT-D(draft)", PayloadNATOADraft: "NAT-OA(draft)", PayloadFragment: "Fragment",
}

func (t PayloadType) String() string {
	if s, ok := payloadNames[t]; ok {
		return s
	}
	return fmt.Sprintf("PayloadType(%d)", uint8(t))
}

// ExchangeType is the Exchange Type of RFC 2408 section 3.1 (and RFC 2409).
type ExchangeType uint8

const (
	ExchangeNone          ExchangeType = 0
	ExchangeBase          ExchangeType = 1
	ExchangeIdentityProt  ExchangeType = 2 // main mode
	ExchangeAuthOnly      ExchangeType = 3
	ExchangeAggressive    ExchangeType = 4
	ExchangeInformational ExchangeType = 5
	ExchangeTransaction   ExchangeType = 6 // mode config
	ExchangeQuick         ExchangeType = 32
	ExchangeNewGroup      ExchangeType = 33
)

func (e ExchangeType) String() string {
	switch e {
	case ExchangeNone:
		return "None"
	case ExchangeBase:
		return "Base"
	case ExchangeIdentityProt:
		return "IdentityProtection"
	case ExchangeAuthOnly:
		return "AuthenticationOnly"
	case ExchangeAggressive:
		return "Aggressive"
	case ExchangeInformational:
		return "Informational"
	case ExchangeTransaction:
		return "Transaction"
	case ExchangeQuick:
		return "Quick"
	case ExchangeNewGroup:
		return "NewGroup"
	}
	return fmt.Sprintf("ExchangeType(%d)", uint8(e))
}

// Flags of the ISAKMP header.
const (
	FlagEncryption     uint8 = 0x01 // E
	FlagCommit         uint8 = 0x02 // C
	FlagAuthentication uint8 = 0x04 // A
)

// DOI values.
const (
	DOIISAKMP uint32 = 0
	DOIIPsec  uint32 = 1
)

// IPsec DOI situation bits (RFC 2407 section 4.2).
const (
	SitIdentityOnly uint32 = 0x01
	SitSecrecy      uint32 = 0x02
	SitIntegrity    uint32 = 0x04
)

// ProtocolID is a Protocol-ID of proposals, notifications and deletes
// (RFC 2407 section 4.4.1).
type ProtocolID uint8

const (
	ProtoISAKMP   ProtocolID = 1
	ProtoIPsecAH  ProtocolID = 2
	ProtoIPsecESP ProtocolID = 3
	ProtoIPComp   ProtocolID = 4
)

func (p ProtocolID) String() string {
	switch p {
	case ProtoISAKMP:
		return "ISAKMP"
	case ProtoIPsecAH:
		return "AH"
	case ProtoIPsecESP:
		return "ESP"
	case ProtoIPComp:
		return "IPCOMP"
	}
	return fmt.Sprintf("ProtocolID(%d)", uint8(p))
}

// Transform IDs: KEY_IKE for ISAKMP (RFC 2407 4.4.2) and the ESP, AH and
// IPCOMP transform identifiers (4.4.3-4.4.5).
const (
	TransformKeyIKE uint8 = 1

	ESPDES      uint8 = 2
	ESP3DES     uint8 = 3
	ESPBlowfish uint8 = 7
	ESPNull     uint8 = 11
	ESPAES      uint8 = 12

	AHMD5    uint8 = 2
	AHSHA    uint8 = 3
	AHSHA256 uint8 = 5

	IPCompOUI     uint8 = 1
	IPCompDeflate uint8 = 2
	IPCompLZS     uint8 = 3
)
