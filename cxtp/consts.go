package cxtp

import "time"

// Protocol constants of RFC 4067 sections 3 and 4.
const (
	// Version is the CXTP version carried in the Vers field.
	Version = 1

	// Port is the SCTP (and UDP fallback) port for AR <-> AR CXTP.
	Port = 5091

	// ICMPv6Type, ICMPv6Code and ICMPv6Subtype identify CXTP carried
	// between MN and AR in the experimental mobility ICMPv6 message
	// (RFC 4065/4067 section 3.2).
	ICMPv6Type    = 150
	ICMPv6Code    = 0
	ICMPv6Subtype = 1
	// ICMPv6HopLimit is sent on every MN <-> AR message and required on
	// receipt (a message with any other hop limit was forwarded and is
	// dropped).
	ICMPv6HopLimit = 255

	// CTRequestRetry is the wait before the first CTAR retransmission on
	// the MN-AR interface (sections 3.2 and 4); each following wait doubles.
	CTRequestRetry = 2 * time.Second
	// CTRetryMax (CT_RETRY_MAX, sections 3.2 and 4): the MN gives up
	// retransmitting a CTAR this long after its first transmission. This
	// package's transport.Backoff also uses it as the cap of one interval.
	CTRetryMax = 15 * time.Second
	// CTMaxTransferTime is how long the pAR waits before aborting a
	// transfer (sections 3.1 and 4; the SCTP retransmission limit).
	CTMaxTransferTime = 200 * time.Millisecond
	// CTRequestRate (CT_REQUEST_RATE, sections 4 and 6.3) is the number of
	// CTAR messages per second an AR processes before it rate-limits them
	// (dropping at random). The AR engine also paces its CT-Req to one
	// peer with it.
	CTRequestRate = 10
	// SeqReuseWindow is the time during which an MN must not reuse a
	// sequence number.
	SeqReuseWindow = 7 * time.Second

	// HeaderLen is the length of the common CXTP header.
	HeaderLen = 4
	// MaxMessageLen is the largest message the 16-bit Length field allows.
	MaxMessageLen = 0xffff
)

// Algorithm identifies the token calculation algorithm carried in the
// 16-bit Algorithm field of a PCTD (RFC 4067 section 2.5.3; registry of
// RFC 4065 section 7).
type Algorithm uint16

// AlgHMACSHA1 is the only registered algorithm.
const AlgHMACSHA1 Algorithm = 1

func (a Algorithm) String() string {
	if a == AlgHMACSHA1 {
		return "HMAC_SHA1"
	}
	return "Algorithm(" + itoa(int(a)) + ")"
}

// Status is the per-FPT status code of CTAA and CTDR messages (RFC 4067
// sections 2.5.2 and 2.5.4): zero means success, anything else that the
// context of this FPT failed. The RFC defines one error code,
// BAD_CHECKSUM = 0x01 (section 4, sent in a CTDR when the SCTP checksum
// fails); CTAA codes are "failure reasons" and CTDR codes are
// "context-specific", with no other value assigned. The values with the
// high bit set are this project's, used consistently by the engines and
// the Wireshark dissector; another implementation will not know them.
type Status uint8

// Status codes.
const (
	StatusSuccess          Status = 0x00
	StatusBadChecksum      Status = 0x01 // BAD_CHECKSUM, RFC 4067 section 4
	StatusUndefinedError   Status = 0x80
	StatusAuthFailed       Status = 0x81
	StatusUnsupportedFPT   Status = 0x82
	StatusBadMessage       Status = 0x83
	StatusNoContext        Status = 0x84
	StatusContextExpired   Status = 0x85
	StatusInstallFailed    Status = 0x86
	StatusInsufficientRsrc Status = 0x87
)

var statusNames = map[Status]string{
	StatusSuccess:          "success",
	StatusBadChecksum:      "bad checksum",
	StatusUndefinedError:   "undefined error",
	StatusAuthFailed:       "authorization failed",
	StatusUnsupportedFPT:   "unsupported FPT",
	StatusBadMessage:       "incorrectly formatted message",
	StatusNoContext:        "no context",
	StatusContextExpired:   "context expired",
	StatusInstallFailed:    "context installation failed",
	StatusInsufficientRsrc: "insufficient resources",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return "Status(0x" + hex2(uint8(s)) + ")"
}

// Failed reports whether s is a failure code.
func (s Status) Failed() bool { return s != StatusSuccess }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

func hex2(v uint8) string {
	const h = "0123456789abcdef"
	return string([]byte{h[v>>4], h[v&15]})
}
