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

	// CTRequestRetry is the first retransmission interval; it doubles on
	// every retry up to CTRetryMax.
	CTRequestRetry = 2 * time.Second
	// CTRetryMax caps the retransmission interval.
	CTRetryMax = 15 * time.Second
	// CTMaxTransferTime is the longest a context transfer may take.
	CTMaxTransferTime = 200 * time.Millisecond
	// CTRequestRate is the maximum number of requests per second sent to
	// one peer.
	CTRequestRate = 10
	// SeqReuseWindow is the time during which an MN must not reuse a
	// sequence number.
	SeqReuseWindow = 7 * time.Second

	// HeaderLen is the length of the common CXTP header.
	HeaderLen = 4
	// MaxMessageLen is the largest message the 16-bit Length field allows.
	MaxMessageLen = 0xffff
)

// Algorithm identifies the token calculation algorithm carried in a PCTD
// (IANA "Context Transfer Protocol Authorization Token Calculation
// Algorithms").
type Algorithm uint8

// AlgHMACSHA1 is the only registered algorithm.
const AlgHMACSHA1 Algorithm = 1

func (a Algorithm) String() string {
	if a == AlgHMACSHA1 {
		return "HMAC_SHA1"
	}
	return "Algorithm(" + itoa(int(a)) + ")"
}

// Status is the per-FPT status code of CTAA and CTDR messages: zero means
// success, anything else that the context of this FPT failed. The failure
// values below (high bit set) are this project's names and numbers, used
// consistently by the engines and the Wireshark dissector; check them
// against RFC 4067 section 4 before relying on them with another
// implementation (the RFC text was not at hand when they were written).
type Status uint8

// Status codes.
const (
	StatusSuccess          Status = 0x00
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
