package isakmp

import "fmt"

// Cert is the Certificate payload (RFC 2408 section 3.9): Cert Encoding (1) |
// Certificate Data. ikectx parses it but does not use certificates.
type Cert struct {
	Encoding uint8
	Data     []byte
}

// CertRequest is the Certificate Request payload (RFC 2408 section 3.10):
// Cert. Type (1) | Certificate Authority.
type CertRequest struct {
	Type uint8
	CA   []byte
}

// Certificate encodings (RFC 2408 section 3.9).
const (
	CertPKCS7       uint8 = 1
	CertPGP         uint8 = 2
	CertDNSSigned   uint8 = 3
	CertX509Sig     uint8 = 4
	CertX509KeyExch uint8 = 5
	CertKerberos    uint8 = 6
	CertCRL         uint8 = 7
	CertARL         uint8 = 8
	CertSPKI        uint8 = 9
	CertX509Attr    uint8 = 10
	CertPlainRSA    uint8 = 11 // racoon's plain RSA key
)

func (c *Cert) PayloadType() PayloadType        { return PayloadCert }
func (c *CertRequest) PayloadType() PayloadType { return PayloadCR }

func (c *Cert) AppendBody(b []byte) ([]byte, error) {
	return append(append(b, c.Encoding), c.Data...), nil
}

func (c *Cert) DecodeBody(b []byte) error {
	if len(b) < 1 {
		return errf("CERT payload", 0, "empty: no certificate encoding")
	}
	c.Encoding, c.Data = b[0], append([]byte(nil), b[1:]...)
	return nil
}

func (c *CertRequest) AppendBody(b []byte) ([]byte, error) {
	return append(append(b, c.Type), c.CA...), nil
}

func (c *CertRequest) DecodeBody(b []byte) error {
	if len(b) < 1 {
		return errf("CR payload", 0, "empty: no certificate type")
	}
	c.Type, c.CA = b[0], append([]byte(nil), b[1:]...)
	return nil
}

func (c *Cert) String() string {
	return fmt.Sprintf("CERT(encoding %d, %d bytes)", c.Encoding, len(c.Data))
}
