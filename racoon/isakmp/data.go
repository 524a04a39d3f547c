package isakmp

// The payloads whose body is opaque data: KE (RFC 2408 3.7), HASH (3.11),
// SIG (3.12), Nonce (3.13) and Vendor ID (3.16).

// KE is the Key Exchange payload: the Diffie-Hellman public value.
type KE struct{ Data []byte }

// Hash is the HASH payload.
type Hash struct{ Data []byte }

// Signature is the SIG payload.
type Signature struct{ Data []byte }

// Nonce is the Nonce payload.
type Nonce struct{ Data []byte }

// VendorID is the Vendor ID payload.
type VendorID struct{ Data []byte }

func (p *KE) PayloadType() PayloadType        { return PayloadKE }
func (p *Hash) PayloadType() PayloadType      { return PayloadHash }
func (p *Signature) PayloadType() PayloadType { return PayloadSig }
func (p *Nonce) PayloadType() PayloadType     { return PayloadNonce }
func (p *VendorID) PayloadType() PayloadType  { return PayloadVendorID }

func (p *KE) AppendBody(b []byte) ([]byte, error)        { return append(b, p.Data...), nil }
func (p *Hash) AppendBody(b []byte) ([]byte, error)      { return append(b, p.Data...), nil }
func (p *Signature) AppendBody(b []byte) ([]byte, error) { return append(b, p.Data...), nil }
func (p *Nonce) AppendBody(b []byte) ([]byte, error)     { return append(b, p.Data...), nil }
func (p *VendorID) AppendBody(b []byte) ([]byte, error)  { return append(b, p.Data...), nil }

func (p *KE) DecodeBody(b []byte) error        { p.Data = append([]byte(nil), b...); return nil }
func (p *Hash) DecodeBody(b []byte) error      { p.Data = append([]byte(nil), b...); return nil }
func (p *Signature) DecodeBody(b []byte) error { p.Data = append([]byte(nil), b...); return nil }
func (p *Nonce) DecodeBody(b []byte) error     { p.Data = append([]byte(nil), b...); return nil }
func (p *VendorID) DecodeBody(b []byte) error  { p.Data = append([]byte(nil), b...); return nil }

// Well-known vendor IDs.
var (
	// VendorDPD is draft-ietf-ipsec-dpd: the MD5 of "CISCO-DEAD-PEER-DETECTION"
	// truncated and versioned (afcad71368a1f1c96b8696fc77570100).
	VendorDPD = []byte{0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00}
)
