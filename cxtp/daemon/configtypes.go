package daemon

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Role is what a cxtpd instance is: an access router or a mobile node.
type Role string

// The two roles.
const (
	RoleAR Role = "ar"
	RoleMN Role = "mn"
)

// UnmarshalText accepts "ar" or "mn".
func (r *Role) UnmarshalText(b []byte) error {
	switch s := Role(strings.ToLower(string(b))); s {
	case RoleAR, RoleMN:
		*r = s
		return nil
	}
	return fmt.Errorf("role must be \"ar\" or \"mn\", not %q", b)
}

// Transport is the AR-AR transport of one peer.
type Transport string

// The AR-AR transports: SCTP (RFC 4067's MUST) and UDP (the fallback).
const (
	TransportSCTP Transport = "sctp"
	TransportUDP  Transport = "udp"
)

// UnmarshalText accepts "sctp" or "udp".
func (t *Transport) UnmarshalText(b []byte) error {
	switch s := Transport(strings.ToLower(string(b))); s {
	case TransportSCTP, TransportUDP:
		*t = s
		return nil
	}
	return fmt.Errorf("transport must be \"sctp\" or \"udp\", not %q", b)
}

// Duration is a time.Duration written as a Go duration string ("200ms", "30s").
type Duration time.Duration

// UnmarshalText parses a Go duration; it must be positive.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("bad duration %q (want e.g. \"200ms\", \"30s\")", b)
	}
	if v <= 0 {
		return fmt.Errorf("duration %q must be positive", b)
	}
	*d = Duration(v)
	return nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// HexKey is key material written in hex. Its String and GoString never
// show the bytes: a config dump or an error cannot leak it.
type HexKey []byte

// UnmarshalText decodes hex (an optional 0x prefix, ':' separators allowed).
func (k *HexKey) UnmarshalText(b []byte) error {
	s := strings.TrimPrefix(strings.TrimPrefix(string(b), "0x"), "0X")
	s = strings.ReplaceAll(s, ":", "")
	v, err := hex.DecodeString(s)
	if err != nil {
		// Do not echo the text: it is (a mistyped) key.
		return fmt.Errorf("key is not valid hex (%d characters)", len(b))
	}
	if len(v) < 16 || len(v) > 255 {
		return fmt.Errorf("key must be 16 to 255 bytes, got %d", len(v))
	}
	*k = v
	return nil
}

// String hides the key.
func (k HexKey) String() string { return fmt.Sprintf("<key %d bytes>", len(k)) }

// GoString hides the key.
func (k HexKey) GoString() string { return k.String() }
