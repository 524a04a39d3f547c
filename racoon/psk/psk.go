// Package psk reads racoon's pre-shared key file (path pre_shared_key) the
// way ipsec-tools 0.8.2 does (localconf.c getpsk, str2val.c, oakley.c):
//
//   - the file is read in fgets chunks of at most 1023 bytes;
//   - a line is a comment only when its first byte is '#';
//   - the identifier is the first run of non-space bytes, the key everything
//     after the following white space up to the newline (inner and trailing
//     spaces and the CR of a CRLF file stay in the key); a line without a key
//     is skipped;
//   - a key starting with "0x" is hex: white space is ignored, any other
//     non-hex byte or an odd or zero number of digits makes the lookup fail;
//   - the identifier "*" matches every lookup; the first matching line wins;
//   - main mode looks the peer up by its numeric address, aggressive mode by
//     the peer's ID payload first and by address as a fallback unless
//     verify_identifier is on.
//
// The file must be a regular file owned by the daemon's user with no group or
// other permission bits. Keys are owned by a File and wiped with Wipe; they
// are never printed.
package psk

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
)

// fgetsMax is sizeof(buf) - 1 of getpsk's fgets buffer.
const fgetsMax = 1023

// Key is one pre-shared key. Its String and Format never show the bytes.
type Key struct {
	b []byte
}

// Bytes returns the key itself; the caller must not keep it past Wipe.
func (k *Key) Bytes() []byte { return k.b }

// Len is the key length in bytes.
func (k *Key) Len() int { return len(k.b) }

// Wipe overwrites the key with zeros.
func (k *Key) Wipe() {
	for i := range k.b {
		k.b[i] = 0
	}
	k.b = nil
}

// Fingerprint names the key without revealing it: the first 8 hex digits
// of SHA-256 over the key.
func (k *Key) Fingerprint() string {
	s := sha256.Sum256(k.b)
	return hex.EncodeToString(s[:4])
}

func (k *Key) String() string {
	return fmt.Sprintf("psk(%d bytes, sha256 %s…)", len(k.b), k.Fingerprint())
}

// GoString keeps %#v from printing the key.
func (k *Key) GoString() string { return k.String() }

// Entry is one usable line of the file.
type Entry struct {
	ID   string
	Line int // the line number of the chunk (1-based)
	key  *Key
	// hexErr is set when the key starts with 0x but is not valid hex:
	// racoon's lookup fails ("failed to get psk buffer") when it reaches
	// this line.
	hexErr string
}

// File is a parsed pre-shared key file.
type File struct {
	Name    string
	Entries []Entry
}

// ErrNotFound is returned by lookups that match no line.
var ErrNotFound = errors.New("no pre-shared key for this identifier")

// Error is a failure tied to the file (and a line of it when Line > 0).
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("psk: %s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("psk: %s: %s", e.File, e.Msg)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isXDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// str2val decodes a hex key as str2val.c does (base 16).
func str2val(s []byte) ([]byte, string) {
	n := 0
	for _, c := range s {
		switch {
		case isXDigit(c):
			n++
		case isSpace(c):
		default:
			return nil, fmt.Sprintf("hex key contains %q", c)
		}
	}
	if n == 0 || n%2 != 0 {
		return nil, fmt.Sprintf("hex key has %d digits (needs an even, non-zero number)", n)
	}
	out := make([]byte, 0, n/2)
	var hi byte
	half := false
	for _, c := range s {
		if !isXDigit(c) {
			continue
		}
		v := c - '0'
		switch {
		case c >= 'a':
			v = c - 'a' + 10
		case c >= 'A':
			v = c - 'A' + 10
		}
		if !half {
			hi, half = v, true
		} else {
			out = append(out, hi<<4|v)
			half = false
		}
	}
	return out, ""
}

// chunks splits src as successive fgets(buf, 1024) calls would.
func chunks(src []byte, fn func(chunk []byte, line int)) {
	line := 1
	for len(src) > 0 {
		n := bytes.IndexByte(src, '\n') + 1
		if n == 0 || n > fgetsMax {
			n = min(len(src), fgetsMax)
		}
		c := src[:n]
		src = src[n:]
		fn(c, line)
		if c[len(c)-1] == '\n' {
			line++
		}
	}
}

// Parse reads the content of a pre-shared key file.
func Parse(name string, src []byte) *File {
	f := &File{Name: name}
	chunks(src, func(c []byte, line int) {
		// C string functions stop at the first NUL byte
		if i := bytes.IndexByte(c, 0); i >= 0 {
			c = c[:i]
		}
		if len(c) == 0 || c[0] == '#' {
			return
		}
		p := 0
		for p < len(c) && !isSpace(c[p]) {
			p++
		}
		if p == len(c) {
			return // no second field
		}
		id := string(c[:p])
		p++
		for p < len(c) && isSpace(c[p]) {
			p++
		}
		if p == len(c) {
			return // no second field
		}
		q := p
		for q < len(c) && c[q] != '\n' {
			q++
		}
		raw := c[p:q]
		e := Entry{ID: id, Line: line}
		if bytes.HasPrefix(raw, []byte("0x")) {
			k, msg := str2val(raw[2:])
			if msg != "" {
				e.hexErr = msg
			} else {
				e.key = &Key{b: k}
			}
		} else {
			e.key = &Key{b: bytes.Clone(raw)}
		}
		f.Entries = append(f.Entries, e)
	})
	return f
}

// Load checks the file's ownership and mode as racoon's safefile(path, 1)
// does, then reads it.
func Load(path string) (*File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("failed to open pre_shared_key file: %v", unwrap(err))}
	}
	if err := checkMode(path, fi); err != nil {
		return nil, err
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("failed to open pre_shared_key file: %v", unwrap(err))}
	}
	f := Parse(path, src)
	for i := range src {
		src[i] = 0
	}
	return f, nil
}

func unwrap(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func checkMode(path string, fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return &Error{File: path, Msg: "not a regular file"}
	}
	if uid, ok := fileOwner(fi); ok && uid != os.Geteuid() {
		return &Error{File: path, Msg: fmt.Sprintf("owned by uid %d, not by the daemon's uid %d", uid, os.Geteuid())}
	}
	if perm := fi.Mode().Perm(); perm&077 != 0 {
		return &Error{File: path, Msg: fmt.Sprintf("has weak file permission %04o: it must not be group- or world-accessible (chmod 600)", perm)}
	}
	return nil
}

// Lookup is getpsk(str): the first line whose identifier is "*" or equals
// id. The returned key is owned by f.
func (f *File) Lookup(id string) (*Key, error) {
	for _, e := range f.Entries {
		if e.ID != "*" && e.ID != id {
			continue
		}
		if e.hexErr != "" {
			return nil, &Error{File: f.Name, Line: e.Line, Msg: "failed to get psk buffer: " + e.hexErr}
		}
		if e.key == nil {
			return nil, &Error{File: f.Name, Line: e.Line, Msg: "key was wiped"}
		}
		return e.key, nil
	}
	return nil, ErrNotFound
}

// AddrString is the identifier getpskbyaddr uses: the numeric host as
// getnameinfo(NI_NUMERICHOST) prints it (compressed IPv6, zone kept).
func AddrString(a netip.Addr) string {
	return a.String() // also ::ffff:a.b.c.d for a mapped address, as getnameinfo

}

// LookupMain finds the key for a main-mode peer: by address only.
func (f *File) LookupMain(peer netip.Addr) (*Key, error) {
	return f.Lookup(AddrString(peer))
}

// LookupAggressive finds the key for an aggressive- or base-mode peer: by the
// data of its ID payload (the FQDN or USER_FQDN text), then by its address
// unless verifyIdentifier is set.
func (f *File) LookupAggressive(idData []byte, peer netip.Addr, verifyIdentifier bool) (*Key, error) {
	if len(idData) > 0 {
		// getpsk compares with strncmp: the ID stops at its first NUL
		s := idData
		if i := bytes.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
		k, err := f.Lookup(string(s))
		if err == nil || !errors.Is(err, ErrNotFound) {
			return k, err
		}
	}
	if verifyIdentifier {
		return nil, ErrNotFound
	}
	return f.LookupMain(peer)
}

// Wipe zeroes every key of the file.
func (f *File) Wipe() {
	for i := range f.Entries {
		if f.Entries[i].key != nil {
			f.Entries[i].key.Wipe()
			f.Entries[i].key = nil
		}
	}
}
