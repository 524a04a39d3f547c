package isakmp

import (
	"encoding/binary"
	"fmt"
)

// Message is a whole ISAKMP message. When the header's E flag is set, the
// body is ciphertext: Payloads is empty and Encrypted holds it (decrypt it
// and call ParsePayloads with Header.NextPayload, allowing padding).
type Message struct {
	Header    Header
	Payloads  []Payload
	Encrypted []byte
}

// Parse decodes a datagram. The header's length must equal len(b).
func Parse(b []byte) (*Message, error) {
	m := &Message{}
	if err := m.Header.DecodeFromBytes(b); err != nil {
		return nil, err
	}
	if int64(m.Header.Length) != int64(len(b)) {
		return nil, errf("header", 24, "length field %d differs from the %d bytes received", m.Header.Length, len(b))
	}
	body := b[HeaderLen:]
	if m.Header.Encrypted() {
		if len(body) == 0 {
			return nil, errf("header", HeaderLen, "encrypted message without a body")
		}
		m.Encrypted = append([]byte(nil), body...)
		return m, nil
	}
	ps, _, err := ParsePayloads(m.Header.NextPayload, body, HeaderLen, false)
	if err != nil {
		return nil, err
	}
	m.Payloads = ps
	return m, nil
}

// AppendBinary appends the message, computing the header's Next Payload
// (plaintext messages) and Length.
func (m *Message) AppendBinary(b []byte) ([]byte, error) {
	start := len(b)
	h := m.Header
	if h.Encrypted() {
		if len(m.Payloads) != 0 {
			return nil, fmt.Errorf("isakmp: E flag set with plaintext payloads: encrypt them into Encrypted first")
		}
		if len(m.Encrypted) == 0 {
			return nil, fmt.Errorf("isakmp: E flag set but no encrypted body")
		}
		b, _ = h.AppendBinary(b)
		b = append(b, m.Encrypted...)
	} else {
		if len(m.Encrypted) != 0 {
			return nil, fmt.Errorf("isakmp: encrypted body without the E flag")
		}
		b, _ = h.AppendBinary(b)
		var first PayloadType
		var err error
		b, first, err = AppendPayloads(b, m.Payloads)
		if err != nil {
			return nil, err
		}
		b[start+16] = byte(first)
	}
	n := len(b) - start
	if uint64(n) > 0xffffffff {
		return nil, fmt.Errorf("isakmp: message of %d bytes", n)
	}
	binary.BigEndian.PutUint32(b[start+24:], uint32(n))
	return b, nil
}

// Marshal encodes the message.
func (m *Message) Marshal() ([]byte, error) { return m.AppendBinary(nil) }

// Payload returns the first payload of type t, or nil.
func (m *Message) Payload(t PayloadType) Payload {
	for _, p := range m.Payloads {
		if p.PayloadType() == t {
			return p
		}
	}
	return nil
}
