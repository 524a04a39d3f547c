// Package cxtp implements the wire format of the Context Transfer Protocol
// (CXTP, RFC 4067): the seven messages of its section 2.5, Context Data
// Blocks (section 2.4), the MN authorization token and the protocol
// constants of section 4.
//
// Every message is a typed struct with MarshalBinary / AppendBinary /
// UnmarshalBinary; Parse decodes any message from its first octets.
// Decoders check every length strictly, never panic and return errors that
// name the message type (see *DecodeError).
//
// # Common header (RFC 4067 section 2.2)
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|Vers.|  Type   |V|A/S| Reserved|            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Vers is 1; Type is one of CTAR 1, CTAA 2, CTD 3, PCTD 4, CTDR 5, CTC 6,
// CT-Req 7; the flags octet carries V (0x80: the addresses are IPv4, 4
// octets, instead of IPv6, 16 octets) and a message-specific second flag
// (0x40: A, acknowledgement requested, in CTD/PCTD; S, all contexts
// succeeded, in CTDR); Length is the whole message in octets, header
// included.
//
// # Sizes on the wire and the paper's frames
//
// The paper (MobiArch 2008, Table 1) reports a CTAR of 106 bytes and a CTAA
// of 82 bytes; these are Ethernet frames of the MN <-> AR ICMPv6 transport:
//
//	CTAR, IPv6, no requested FPT:
//	  14 Ethernet + 40 IPv6 + 8 ICMPv6 (type 150, code 0, checksum,
//	  subtype 1, 3 reserved) + 44 CXTP = 106, where the 44 CXTP octets are
//	  4 header + 16 MN previous CoA + 16 previous AR address
//	  + 4 sequence number + 4 authorization token
//	CTAA, IPv6, no failed FPT:
//	  14 + 40 + 8 + 20 CXTP = 82, where the 20 CXTP octets are
//	  4 header + 16 MN previous CoA
//
// # Authorization token (RFC 4067 section 2.5.1)
//
//	Token = First(32, HMAC_SHA1(Key, Previous Address | Sequence Number | CDBs))
//
// computed by Token and checked in constant time by VerifyToken.
//
// # Provenance of the layouts
//
// The common header follows the project's wire facts (DESIGN.md); the
// CTAR and CTAA bodies are pinned by the paper's frame sizes above; the
// padding of the PCTD key field to a multiple of 4 octets and the failure
// status values (see Status) are this package's choices, documented where
// they are defined. Every layout is written out as a figure on its type and
// checked by hand-written golden bytes (golden_test.go).
//
// # Feature Profile Types
//
// IANA registers only FPT 1 (IPv6 Multicast Listener Context). Nothing is
// registered for IPsec or IKE contexts: this project uses configurable values
// from the unassigned range; the defaults are FPTIPsecSA, FPTIPsecSP,
// FPTIKEv1SA and FPTIKEv2SA (see fpt.go).
package cxtp
