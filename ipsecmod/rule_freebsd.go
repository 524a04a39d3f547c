package ipsecmod

// DefaultRule on FreeBSD: key_add refuses an SPI already used by any SA.
const DefaultRule = RuleSPI
