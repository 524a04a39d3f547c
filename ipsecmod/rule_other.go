//go:build !freebsd

package ipsecmod

// DefaultRule on Linux (xfrm_state_lookup and xfrm_state_add key on
// destination, SPI and protocol) and elsewhere.
const DefaultRule = RuleSPIDst
