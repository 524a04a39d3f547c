package esptest

import (
	"fmt"

	"github.com/ikectx/ikectx/pfkey"
)

var (
	pfkeyCiphers = map[pfkey.EncAlg]Cipher{
		pfkey.EncDESCBC:      DESCBC,
		pfkey.Enc3DESCBC:     TripleDESCBC,
		pfkey.EncAESCBC:      AESCBC,
		pfkey.EncAESGCMICV16: AESGCM16,
		pfkey.EncAESGCMICV12: AESGCM12,
	}
	pfkeyIntegrity = map[pfkey.AuthAlg]Integrity{
		pfkey.AuthMD5HMAC:      HMACMD596,
		pfkey.AuthSHA1HMAC:     HMACSHA196,
		pfkey.AuthSHA2_256HMAC: HMACSHA256128,
		pfkey.AuthSHA2_384HMAC: HMACSHA384192,
		pfkey.AuthSHA2_512HMAC: HMACSHA512256,
	}
)

// FromPFKEY is the test codec of an ESP SA given by its PF_KEY algorithm
// numbers and keys (with AES-GCM, encKey is the key and the salt, and
// auth is not looked at).
func FromPFKEY(spi uint32, enc pfkey.EncAlg, auth pfkey.AuthAlg, encKey, authKey []byte) (*SA, error) {
	sa := &SA{SPI: spi, EncKey: encKey, AuthKey: authKey}
	var ok bool
	if sa.Cipher, ok = pfkeyCiphers[enc]; !ok {
		return nil, fmt.Errorf("cipher %v not in the test codec", enc)
	}
	if sa.Cipher.AEAD() {
		return sa, nil
	}
	if sa.Auth, ok = pfkeyIntegrity[auth]; !ok {
		return nil, fmt.Errorf("integrity %v not in the test codec", auth)
	}
	return sa, nil
}
