package msg

import "strconv"

// ExchangeType is the IKE header's exchange type (RFC 7296 section 3.1).
type ExchangeType uint8

// Exchange types.
const (
	IKE_SA_INIT     ExchangeType = 34
	IKE_AUTH        ExchangeType = 35
	CREATE_CHILD_SA ExchangeType = 36
	INFORMATIONAL   ExchangeType = 37
)

func (e ExchangeType) String() string {
	switch e {
	case IKE_SA_INIT:
		return "IKE_SA_INIT"
	case IKE_AUTH:
		return "IKE_AUTH"
	case CREATE_CHILD_SA:
		return "CREATE_CHILD_SA"
	case INFORMATIONAL:
		return "INFORMATIONAL"
	}
	return "exchange(" + strconv.Itoa(int(e)) + ")"
}

// Flags of the IKE header.
type Flags uint8

// Header flags.
const (
	FlagInitiator Flags = 0x08
	FlagVersion   Flags = 0x10
	FlagResponse  Flags = 0x20
)

// PayloadType is a payload's type code (RFC 7296 section 3.2).
type PayloadType uint8

// Payload types.
const (
	PayloadNone     PayloadType = 0
	PayloadSA       PayloadType = 33
	PayloadKE       PayloadType = 34
	PayloadIDi      PayloadType = 35
	PayloadIDr      PayloadType = 36
	PayloadCERT     PayloadType = 37
	PayloadCERTREQ  PayloadType = 38
	PayloadAUTH     PayloadType = 39
	PayloadNonce    PayloadType = 40
	PayloadNotify   PayloadType = 41
	PayloadDelete   PayloadType = 42
	PayloadVendorID PayloadType = 43
	PayloadTSi      PayloadType = 44
	PayloadTSr      PayloadType = 45
	PayloadSK       PayloadType = 46
	PayloadCP       PayloadType = 47
	PayloadEAP      PayloadType = 48
	PayloadSKF      PayloadType = 53
)

var payloadNames = map[PayloadType]string{
	PayloadNone: "none", PayloadSA: "SA", PayloadKE: "KE", PayloadIDi: "IDi", PayloadIDr: "IDr",
	PayloadCERT: "CERT", PayloadCERTREQ: "CERTREQ", PayloadAUTH: "AUTH", PayloadNonce: "Nonce",
	PayloadNotify: "Notify", PayloadDelete: "Delete", PayloadVendorID: "VendorID",
	PayloadTSi: "TSi", PayloadTSr: "TSr", PayloadSK: "SK", PayloadCP: "CP", PayloadEAP: "EAP",
	PayloadSKF: "SKF",
}

func (p PayloadType) String() string {
	if s, ok := payloadNames[p]; ok {
		return s
	}
	return "payload(" + strconv.Itoa(int(p)) + ")"
}

// ProtocolID names the protocol of a proposal, notify or delete.
type ProtocolID uint8

// Protocol IDs.
const (
	ProtoNone ProtocolID = 0
	ProtoIKE  ProtocolID = 1
	ProtoAH   ProtocolID = 2
	ProtoESP  ProtocolID = 3
)

func (p ProtocolID) String() string {
	switch p {
	case ProtoNone:
		return "none"
	case ProtoIKE:
		return "IKE"
	case ProtoAH:
		return "AH"
	case ProtoESP:
		return "ESP"
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
}

// TransformType is a transform's type (RFC 7296 section 3.3.2).
type TransformType uint8

// Transform types.
const (
	TransENCR  TransformType = 1
	TransPRF   TransformType = 2
	TransINTEG TransformType = 3
	TransDH    TransformType = 4
	TransESN   TransformType = 5
)

func (t TransformType) String() string {
	switch t {
	case TransENCR:
		return "ENCR"
	case TransPRF:
		return "PRF"
	case TransINTEG:
		return "INTEG"
	case TransDH:
		return "DH"
	case TransESN:
		return "ESN"
	}
	return "transform(" + strconv.Itoa(int(t)) + ")"
}

// Transform IDs used by ikectx (IANA "IKEv2 Parameters").
const (
	ENCR_AES_CBC    uint16 = 12
	ENCR_AES_CTR    uint16 = 13
	ENCR_AES_GCM_8  uint16 = 18
	ENCR_AES_GCM_12 uint16 = 19
	ENCR_AES_GCM_16 uint16 = 20

	PRF_HMAC_SHA1     uint16 = 2
	PRF_HMAC_SHA2_256 uint16 = 5
	PRF_HMAC_SHA2_384 uint16 = 6
	PRF_HMAC_SHA2_512 uint16 = 7

	AUTH_HMAC_SHA1_96      uint16 = 2
	AUTH_HMAC_SHA2_256_128 uint16 = 12
	AUTH_HMAC_SHA2_384_192 uint16 = 13
	AUTH_HMAC_SHA2_512_256 uint16 = 14
	DH_MODP2048            uint16 = 14
	DH_ECP256              uint16 = 19
	DH_CURVE25519          uint16 = 31
	ESN_NO                 uint16 = 0
	ESN_YES                uint16 = 1
	AttrKeyLength          uint16 = 14
	AuthMethodSharedKeyMIC uint8  = 2
	AuthMethodRSASig       uint8  = 1
	AuthMethodDigitalSig   uint8  = 14
	IDTypeIPv4             uint8  = 1
	IDTypeFQDN             uint8  = 2
	IDTypeRFC822           uint8  = 3
	IDTypeIPv6             uint8  = 5
	IDTypeDERASN1DN        uint8  = 9
	IDTypeDERASN1GN        uint8  = 10
	IDTypeKeyID            uint8  = 11
	TSIPv4AddrRange        uint8  = 7
	TSIPv6AddrRange        uint8  = 8
	CFG_REQUEST            uint8  = 1
	CFG_REPLY              uint8  = 2
	CFG_SET                uint8  = 3
	CFG_ACK                uint8  = 4
	IKEv2Version           uint8  = 0x20
	HeaderLen                     = 28
	GenericHeaderLen              = 4
	NonESPMarkerLen               = 4
)

// NotifyType is a Notify payload's message type.
type NotifyType uint16

// Error notify types (RFC 7296 section 3.10.1, RFC 4555).
const (
	UNSUPPORTED_CRITICAL_PAYLOAD NotifyType = 1
	INVALID_IKE_SPI              NotifyType = 4
	INVALID_MAJOR_VERSION        NotifyType = 5
	INVALID_SYNTAX               NotifyType = 7
	INVALID_MESSAGE_ID           NotifyType = 9
	INVALID_SPI                  NotifyType = 11
	NO_PROPOSAL_CHOSEN           NotifyType = 14
	INVALID_KE_PAYLOAD           NotifyType = 17
	AUTHENTICATION_FAILED        NotifyType = 24
	SINGLE_PAIR_REQUIRED         NotifyType = 34
	NO_ADDITIONAL_SAS            NotifyType = 35
	INTERNAL_ADDRESS_FAILURE     NotifyType = 36
	FAILED_CP_REQUIRED           NotifyType = 37
	TS_UNACCEPTABLE              NotifyType = 38
	INVALID_SELECTORS            NotifyType = 39
	UNACCEPTABLE_ADDRESSES       NotifyType = 40
	UNEXPECTED_NAT_DETECTED      NotifyType = 41
	TEMPORARY_FAILURE            NotifyType = 43
	CHILD_SA_NOT_FOUND           NotifyType = 44
)

// Status notify types (RFC 7296, RFC 4555 MOBIKE, RFC 7383, RFC 7427, ...).
const (
	INITIAL_CONTACT               NotifyType = 16384
	SET_WINDOW_SIZE               NotifyType = 16385
	ADDITIONAL_TS_POSSIBLE        NotifyType = 16386
	IPCOMP_SUPPORTED              NotifyType = 16387
	NAT_DETECTION_SOURCE_IP       NotifyType = 16388
	NAT_DETECTION_DESTINATION_IP  NotifyType = 16389
	COOKIE                        NotifyType = 16390
	USE_TRANSPORT_MODE            NotifyType = 16391
	HTTP_CERT_LOOKUP_SUPPORTED    NotifyType = 16392
	REKEY_SA                      NotifyType = 16393
	ESP_TFC_PADDING_NOT_SUPPORTED NotifyType = 16394
	NON_FIRST_FRAGMENTS_ALSO      NotifyType = 16395
	MOBIKE_SUPPORTED              NotifyType = 16396
	ADDITIONAL_IP4_ADDRESS        NotifyType = 16397
	ADDITIONAL_IP6_ADDRESS        NotifyType = 16398
	NO_ADDITIONAL_ADDRESSES       NotifyType = 16399
	UPDATE_SA_ADDRESSES           NotifyType = 16400
	COOKIE2                       NotifyType = 16401
	NO_NATS_ALLOWED               NotifyType = 16402
	AUTH_LIFETIME                 NotifyType = 16403
	MULTIPLE_AUTH_SUPPORTED       NotifyType = 16404
	ANOTHER_AUTH_FOLLOWS          NotifyType = 16405
	REDIRECT_SUPPORTED            NotifyType = 16406
	EAP_ONLY_AUTHENTICATION       NotifyType = 16417
	CHILDLESS_IKEV2_SUPPORTED     NotifyType = 16418
	IKEV2_FRAGMENTATION_SUPPORTED NotifyType = 16430
	SIGNATURE_HASH_ALGORITHMS     NotifyType = 16431
	PrivateStatusMin              NotifyType = 40960
	PrivateStatusMax              NotifyType = 65535
	DefaultUpdateSPI              NotifyType = 40960
	firstStatus                   NotifyType = 16384
)

var notifyNames = map[NotifyType]string{
	UNSUPPORTED_CRITICAL_PAYLOAD: "UNSUPPORTED_CRITICAL_PAYLOAD", INVALID_IKE_SPI: "INVALID_IKE_SPI",
	INVALID_MAJOR_VERSION: "INVALID_MAJOR_VERSION", INVALID_SYNTAX: "INVALID_SYNTAX",
	INVALID_MESSAGE_ID: "INVALID_MESSAGE_ID", INVALID_SPI: "INVALID_SPI",
	NO_PROPOSAL_CHOSEN: "NO_PROPOSAL_CHOSEN", INVALID_KE_PAYLOAD: "INVALID_KE_PAYLOAD",
	AUTHENTICATION_FAILED: "AUTHENTICATION_FAILED", SINGLE_PAIR_REQUIRED: "SINGLE_PAIR_REQUIRED",
	NO_ADDITIONAL_SAS: "NO_ADDITIONAL_SAS", INTERNAL_ADDRESS_FAILURE: "INTERNAL_ADDRESS_FAILURE",
	FAILED_CP_REQUIRED: "FAILED_CP_REQUIRED", TS_UNACCEPTABLE: "TS_UNACCEPTABLE",
	INVALID_SELECTORS: "INVALID_SELECTORS", UNACCEPTABLE_ADDRESSES: "UNACCEPTABLE_ADDRESSES",
	UNEXPECTED_NAT_DETECTED: "UNEXPECTED_NAT_DETECTED", TEMPORARY_FAILURE: "TEMPORARY_FAILURE",
	CHILD_SA_NOT_FOUND: "CHILD_SA_NOT_FOUND", INITIAL_CONTACT: "INITIAL_CONTACT",
	SET_WINDOW_SIZE: "SET_WINDOW_SIZE", ADDITIONAL_TS_POSSIBLE: "ADDITIONAL_TS_POSSIBLE",
	IPCOMP_SUPPORTED: "IPCOMP_SUPPORTED", NAT_DETECTION_SOURCE_IP: "NAT_DETECTION_SOURCE_IP",
	NAT_DETECTION_DESTINATION_IP: "NAT_DETECTION_DESTINATION_IP", COOKIE: "COOKIE",
	USE_TRANSPORT_MODE: "USE_TRANSPORT_MODE", HTTP_CERT_LOOKUP_SUPPORTED: "HTTP_CERT_LOOKUP_SUPPORTED",
	REKEY_SA: "REKEY_SA", ESP_TFC_PADDING_NOT_SUPPORTED: "ESP_TFC_PADDING_NOT_SUPPORTED",
	NON_FIRST_FRAGMENTS_ALSO: "NON_FIRST_FRAGMENTS_ALSO", MOBIKE_SUPPORTED: "MOBIKE_SUPPORTED",
	ADDITIONAL_IP4_ADDRESS: "ADDITIONAL_IP4_ADDRESS", ADDITIONAL_IP6_ADDRESS: "ADDITIONAL_IP6_ADDRESS",
	NO_ADDITIONAL_ADDRESSES: "NO_ADDITIONAL_ADDRESSES", UPDATE_SA_ADDRESSES: "UPDATE_SA_ADDRESSES",
	COOKIE2: "COOKIE2", NO_NATS_ALLOWED: "NO_NATS_ALLOWED", AUTH_LIFETIME: "AUTH_LIFETIME",
	MULTIPLE_AUTH_SUPPORTED: "MULTIPLE_AUTH_SUPPORTED", ANOTHER_AUTH_FOLLOWS: "ANOTHER_AUTH_FOLLOWS",
	REDIRECT_SUPPORTED: "REDIRECT_SUPPORTED", EAP_ONLY_AUTHENTICATION: "EAP_ONLY_AUTHENTICATION",
	CHILDLESS_IKEV2_SUPPORTED:     "CHILDLESS_IKEV2_SUPPORTED",
	IKEV2_FRAGMENTATION_SUPPORTED: "IKEV2_FRAGMENTATION_SUPPORTED",
	SIGNATURE_HASH_ALGORITHMS:     "SIGNATURE_HASH_ALGORITHMS",
}

func (n NotifyType) String() string {
	if s, ok := notifyNames[n]; ok {
		return s
	}
	return "notify(" + strconv.Itoa(int(n)) + ")"
}

// IsError reports whether n is an error type (below 16384).
func (n NotifyType) IsError() bool { return n < firstStatus }
