package esptest

import (
	"fmt"

	"github.com/ikectx/ikectx/pfkey"
)

// FromPFKEY is the test codec of an ESP SA given by its PF_KEY algorithm
// numbers and keys (with AES-GCM, encKey is the key and the salt, and
// auth is not looked at).
func FromPFKEY(spi uint32, enc pfkey.EncAlg, auth pfkey.AuthAlg, encKey, authKey []byte) (*SA, error) {
	sa := &SA{SPI: spi, EncKey: encKey, AuthKey: authKey}
	switch enc {
	case pfkey.EncDESCBC:
		sa.Cipher = DESCBC
	case pfkey.Enc3DESCBC:
		sa.Cipher = TripleDESCBC
	case pfkey.EncAESCBC:
		sa.Cipher = AESCBC
	case pfkey.EncAESGCMICV16:
		sa.Cipher = AESGCM16
	case pfkey.EncAESGCMICV12:
		sa.Cipher = AESGCM12
	default:
		return nil, fmt.Errorf("cipher %v not in the test codec", enc)
	}
	if sa.Cipher.AEAD() {
		return sa, nil
	}
	switch auth {
	case pfkey.AuthMD5HMAC:
		sa.Auth = HMACMD596
	case pfkey.AuthSHA1HMAC:
		sa.Auth = HMACSHA196
	case pfkey.AuthSHA2_256HMAC:
		sa.Auth = HMACSHA256128
	case pfkey.AuthSHA2_384HMAC:
		sa.Auth = HMACSHA384192
	case pfkey.AuthSHA2_512HMAC:
		sa.Auth = HMACSHA512256
	default:
		return nil, fmt.Errorf("integrity %v not in the test codec", auth)
	}
	return sa, nil
}
