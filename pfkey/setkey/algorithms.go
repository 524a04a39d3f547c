package setkey

import (
	"fmt"
	"strings"

	"github.com/ikectx/ikectx/pfkey"
)

// algKind tells how an algorithm takes its key.
type algKind int

const (
	algKeyed    algKind = iota // a key follows
	algNoKey                   // no key (null)
	algOld                     // "simple": obsolete, no key
	algDesDeriv                // des-deriv: keyed, needs the new ESP format
	algDes32IV                 // des-32iv: keyed, needs esp-old
)

// algInfo describes an algorithm name of the setkey language.
type algInfo struct {
	name string // canonical name
	kind algKind
	// Accepted key sizes in bits: any multiple of 8 in [minBits, maxBits],
	// or, when sizes is set, only those.
	minBits, maxBits int
	sizes            []int
}

func (a *algInfo) checkKey(bits int) error {
	if len(a.sizes) > 0 {
		for _, s := range a.sizes {
			if bits == s {
				return nil
			}
		}
		ss := make([]string, len(a.sizes))
		for i, s := range a.sizes {
			ss[i] = fmt.Sprint(s)
		}
		return fmt.Errorf("invalid key length %d bits for %s: must be %s bits", bits, a.name, strings.Join(ss, ", "))
	}
	if bits < a.minBits || bits > a.maxBits {
		if a.minBits == a.maxBits {
			return fmt.Errorf("invalid key length %d bits for %s: must be %d bits", bits, a.name, a.minBits)
		}
		return fmt.Errorf("invalid key length %d bits for %s: must be %d to %d bits", bits, a.name, a.minBits, a.maxBits)
	}
	return nil
}

// Encryption algorithms of -E: ipsec-tools 0.8.2's names (token.l) plus
// FreeBSD's aes-gcm-16 (key = 128/192/256-bit AES key + 32-bit salt).
var encAlgs = map[string]*algInfo{
	"des-cbc":      {name: "des-cbc", minBits: 64, maxBits: 64},
	"3des-cbc":     {name: "3des-cbc", minBits: 192, maxBits: 192},
	"null":         {name: "null", kind: algNoKey},
	"simple":       {name: "simple", kind: algOld},
	"blowfish-cbc": {name: "blowfish-cbc", minBits: 40, maxBits: 448},
	"cast128-cbc":  {name: "cast128-cbc", minBits: 40, maxBits: 128},
	"des-deriv":    {name: "des-deriv", kind: algDesDeriv, minBits: 64, maxBits: 64},
	"des-32iv":     {name: "des-32iv", kind: algDes32IV, minBits: 64, maxBits: 64},
	"twofish-cbc":  {name: "twofish-cbc", sizes: []int{128, 192, 256}},
	"aes-cbc":      {name: "aes-cbc", sizes: []int{128, 192, 256}},
	"rijndael-cbc": {name: "aes-cbc", sizes: []int{128, 192, 256}},
	"aes-ctr":      {name: "aes-ctr", sizes: []int{160, 224, 288}},
	"camellia-cbc": {name: "camellia-cbc", sizes: []int{128, 192, 256}},
	"aes-gcm-16":   {name: "aes-gcm-16", sizes: []int{160, 224, 288}},
}

// Authentication algorithms of -A.
var authAlgs = map[string]*algInfo{
	"hmac-md5":       {name: "hmac-md5", minBits: 128, maxBits: 128},
	"hmac-sha1":      {name: "hmac-sha1", minBits: 160, maxBits: 160},
	"keyed-md5":      {name: "keyed-md5", minBits: 0, maxBits: 2048},
	"keyed-sha1":     {name: "keyed-sha1", minBits: 0, maxBits: 2048},
	"hmac-sha2-256":  {name: "hmac-sha2-256", minBits: 256, maxBits: 256},
	"hmac-sha256":    {name: "hmac-sha2-256", minBits: 256, maxBits: 256},
	"hmac-sha2-384":  {name: "hmac-sha2-384", minBits: 384, maxBits: 384},
	"hmac-sha384":    {name: "hmac-sha2-384", minBits: 384, maxBits: 384},
	"hmac-sha2-512":  {name: "hmac-sha2-512", minBits: 512, maxBits: 512},
	"hmac-sha512":    {name: "hmac-sha2-512", minBits: 512, maxBits: 512},
	"hmac-ripemd160": {name: "hmac-ripemd160", minBits: 160, maxBits: 160},
	"aes-xcbc-mac":   {name: "aes-xcbc-mac", minBits: 128, maxBits: 128},
	"tcp-md5":        {name: "tcp-md5", minBits: 8, maxBits: 640},
	"null":           {name: "null", kind: algNoKey},
}

// Compression algorithms of -C.
var compAlgs = map[string]*algInfo{
	"oui":     {name: "oui", kind: algNoKey},
	"deflate": {name: "deflate", kind: algNoKey},
	"lzs":     {name: "lzs", kind: algNoKey},
}

// EncAlgNames, AuthAlgNames and CompAlgNames list the accepted names.
func EncAlgNames() []string  { return names(encAlgs) }
func AuthAlgNames() []string { return names(authAlgs) }
func CompAlgNames() []string { return names(compAlgs) }

func names(m map[string]*algInfo) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// decodeKey turns a key token into bytes: "text" as is, 0xHEX decoded (an odd
// number of digits gets a leading zero nibble, as setkey does).
func decodeKey(t token) ([]byte, error) {
	switch t.kind {
	case tQuoted:
		return []byte(t.text), nil
	case tHex:
		h := t.text[2:]
		if len(h)%2 == 1 {
			h = "0" + h
		}
		out := make([]byte, len(h)/2)
		for i := range out {
			out[i] = hexVal(h[2*i])<<4 | hexVal(h[2*i+1])
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a key (\"text\" or 0xHEX), found %s", t.describe())
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

// The names package pfkey knows for Linux or FreeBSD (aes-ccm-16,
// hmac-sm3, serpent-cbc, aes128-gmac, ...) are accepted too, with the key
// sizes pfkey gives; Build then tells whether the target kernel has them.
func init() {
	add := func(table map[string]*algInfo, list []pfkey.AlgInfo, noKey bool) {
		for _, a := range list {
			for _, n := range append([]string{a.Name}, a.Aliases...) {
				if _, ok := table[n]; ok {
					continue
				}
				info := &algInfo{name: a.Name, minBits: a.MinBits, maxBits: a.MaxBits}
				if noKey || a.MaxBits == 0 {
					info.kind = algNoKey
				}
				table[n] = info
			}
		}
	}
	for _, d := range []*pfkey.Dialect{pfkey.Linux, pfkey.FreeBSD} {
		add(encAlgs, d.EncAlgs(), false)
		add(authAlgs, d.AuthAlgs(), false)
		add(compAlgs, d.CompAlgs(), true)
	}
}
