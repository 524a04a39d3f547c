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
// # Where the layouts were checked
//
// Every layout and constant was checked field by field against the text of
// RFC 4067 (July 2005; a copy of rfc4067.txt found through the project's
// search tool) and the IANA allocations of RFC 4065: header and version
// (RFC 4067 section 2.2), Context Data Block (2.4), the V flag (2.5), CTAR
// and the token (2.5.1), CTAA (2.5.2), CTD and PCTD (2.5.3), CTDR (2.5.4),
// CTC (2.5.5), CT-Req and the null token (2.5.6), SCTP transport (3.1),
// ICMP transport and retransmission (3.2), error codes and constants (4),
// rate limiting and key handling (6.3); SCTP port 5091 (RFC 4065 section 2),
// ICMPv6 type 150 (section 4), subtype 1 (section 8), algorithm 1 (section
// 7), FPT registry (section 6). Differences found, and what was done:
//
//	where (RFC 4067)       | was (remembered)               | RFC / now
//	-----------------------+--------------------------------+------------------------------------
//	CTAR 2.5.1, CT-Req     | requested contexts as a list   | requested Context Data Blocks:
//	2.5.6                  | of 2-octet FPTs                | 4 octets each, FPT | Length 0 |
//	                       |                                | P=0 | Reserved (2.4: "only the
//	                       |                                | first 4 octets"); fixed
//	token 2.5.1            | CDBs hashed as 8-octet blocks  | hashes the requested CDBs as
//	                       | (Length 1) while the wire      | carried: the 4-octet blocks;
//	                       | carried 2-octet FPTs           | fixed (tokens of requests naming
//	                       |                                | FPTs change; "all" unchanged)
//	PCTD 2.5.3             | Algorithm 8 bits, Key Length   | Algorithm 16 bits, Key Length 16
//	                       | 8 bits, key padded from a      | bits, key padded to a multiple
//	                       | 2-octet offset                 | of 4; fixed (padding is ours,
//	                       |                                | the RFC is silent)
//	status codes 4         | only project codes 0x80-0x87   | BAD_CHECKSUM = 0x01 added; 0x80+
//	                       |                                | stay project codes (the RFC
//	                       |                                | defines no others)
//	CT_RETRY_MAX 3.2, 4    | caps one retransmit interval   | the MN stops retransmitting a
//	                       |                                | CTAR 15 s after the first send;
//	                       |                                | constant documented; the MN
//	                       |                                | engine's GiveUp (45 s) and first
//	                       |                                | retry (200 ms, not
//	                       |                                | CT_REQUEST_RETRY 2 s) are not
//	                       |                                | changed here
//	CT_REQUEST_RATE 6.3    | requests sent to one peer      | CTARs an AR processes per second
//	                       |                                | before dropping; documented (the
//	                       |                                | AR engine paces CT-Req with it and
//	                       |                                | bounds CTAR-made entries,
//	                       |                                | engine/ar_admit.go)
//	null token 2.5.6       | CT-Req with a zero token fails | pAR answers with the key material
//	                       | the token check (CTC)          | (a PCTD, only over a protected
//	                       |                                | channel); fixed in the engine (this
//	                       |                                | nAR still sends CT-Req only after
//	                       |                                | a CTAR)
//	SCTP PPID 3.1          | 0                              | 'CXTP', but RFC 4065 assigns no
//	                       |                                | PPID; left 0
//
// Found as remembered: the header (Vers 3 bits, Type 5 bits, V = 0x80 and
// A or S = 0x40 in the second octet, Length in octets over the whole
// message), the type numbers 1-7, the CTAR body before its requested CDBs
// (hence the paper's 44 octets), CTAA, CTD (Elapsed Time, then the
// address), CTDR, CTC, the CDB (FPT 16 | Length 8 in 8-octet words, header
// included | P | Reserved 7 | presence vector if P | data padded to 8), the
// token formula, ICMPv6 type 150 code 0 subtype 1 with 3 reserved octets and
// hop limit 255, SCTP port 5091, unordered SCTP delivery on one stream,
// CT_REQUEST_RETRY 2 s, CT_MAX_TRANSFER_TIME 200 ms, CT_REQUEST_RATE 10/s,
// the 7-second sequence number window. The RFC has no Lifetime field and no
// M flag: the AR engine's context lifetime is local configuration.
//
// The paper's 106/82-byte frames agree with the RFC: a CTAR requesting
// every context (no requested CDB, as the paper's MN sends it) is 44 octets,
// a CTAA with nothing failed 20. Each requested FPT would add 4 octets.
//
// The choices that remain this package's own: Length 0 for a header-only
// request block (the RFC does not say), padding the PCTD key, the status
// codes 0x80-0x87, FPT 0 in a request list meaning "all" (0 is RESERVED in
// the registry), and the FPT values for IPsec and IKE contexts below. Every
// layout is written out as a figure on its type and checked by hand-written
// golden bytes (golden_test.go).
//
// # Feature Profile Types
//
// IANA registers only FPT 1 (IPv6 Multicast Listener Context). Nothing is
// registered for IPsec or IKE contexts: this project uses configurable values
// from the unassigned range; the defaults are FPTIPsecSA, FPTIPsecSP,
// FPTIKEv1SA and FPTIKEv2SA (see cdb.go).
package cxtp
