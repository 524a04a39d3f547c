package pfkey

import "strings"

// AlgInfo describes one algorithm of a dialect: its setkey name (and
// aliases), its number, and the key sizes in bits that setkey accepts.
type AlgInfo struct {
	Name    string
	Aliases []string
	ID      uint8
	MinBits int
	MaxBits int
}

var linuxAuth = []AlgInfo{
	{Name: "null", ID: uint8(AuthNull)},
	{Name: "hmac-md5", ID: uint8(AuthMD5HMAC), MinBits: 128, MaxBits: 128},
	{Name: "hmac-sha1", ID: uint8(AuthSHA1HMAC), MinBits: 160, MaxBits: 160},
	{Name: "hmac-sha256", Aliases: []string{"hmac-sha2-256"}, ID: uint8(AuthSHA2_256HMAC), MinBits: 256, MaxBits: 256},
	{Name: "hmac-sha384", Aliases: []string{"hmac-sha2-384"}, ID: uint8(AuthSHA2_384HMAC), MinBits: 384, MaxBits: 384},
	{Name: "hmac-sha512", Aliases: []string{"hmac-sha2-512"}, ID: uint8(AuthSHA2_512HMAC), MinBits: 512, MaxBits: 512},
	{Name: "hmac-ripemd160", ID: uint8(AuthRIPEMD160HMAC), MinBits: 160, MaxBits: 160},
	{Name: "aes-xcbc-mac", ID: uint8(AuthAESXCBCMAC), MinBits: 128, MaxBits: 128},
	{Name: "hmac-sm3", ID: uint8(AuthSM3_256HMAC), MinBits: 256, MaxBits: 256},
}

var freebsdAuth = []AlgInfo{
	{Name: "null", ID: uint8(AuthNull)},
	{Name: "hmac-md5", ID: uint8(AuthMD5HMAC), MinBits: 128, MaxBits: 128},
	{Name: "hmac-sha1", ID: uint8(AuthSHA1HMAC), MinBits: 160, MaxBits: 160},
	{Name: "keyed-md5", ID: uint8(AuthKeyedMD5), MinBits: 128, MaxBits: 128},
	{Name: "keyed-sha1", ID: uint8(AuthKeyedSHA1), MinBits: 160, MaxBits: 160},
	{Name: "hmac-sha256", Aliases: []string{"hmac-sha2-256"}, ID: uint8(AuthSHA2_256HMAC), MinBits: 256, MaxBits: 256},
	{Name: "hmac-sha384", Aliases: []string{"hmac-sha2-384"}, ID: uint8(AuthSHA2_384HMAC), MinBits: 384, MaxBits: 384},
	{Name: "hmac-sha512", Aliases: []string{"hmac-sha2-512"}, ID: uint8(AuthSHA2_512HMAC), MinBits: 512, MaxBits: 512},
	{Name: "hmac-ripemd160", ID: uint8(AuthRIPEMD160HMAC), MinBits: 160, MaxBits: 160},
	{Name: "aes-xcbc-mac", ID: uint8(AuthAESXCBCMAC), MinBits: 128, MaxBits: 128},
	{Name: "aes128-gmac", ID: uint8(AuthAES128GMAC), MinBits: 160, MaxBits: 160},
	{Name: "aes192-gmac", ID: uint8(AuthAES192GMAC), MinBits: 224, MaxBits: 224},
	{Name: "aes256-gmac", ID: uint8(AuthAES256GMAC), MinBits: 288, MaxBits: 288},
	{Name: "tcp-md5", ID: uint8(AuthTCPMD5), MinBits: 8, MaxBits: 640},
}

var linuxEnc = []AlgInfo{
	{Name: "null", Aliases: []string{"simple"}, ID: uint8(EncNull)},
	{Name: "des-cbc", ID: uint8(EncDESCBC), MinBits: 64, MaxBits: 64},
	{Name: "3des-cbc", ID: uint8(Enc3DESCBC), MinBits: 192, MaxBits: 192},
	{Name: "cast128-cbc", ID: uint8(EncCAST128CBC), MinBits: 40, MaxBits: 128},
	{Name: "blowfish-cbc", ID: uint8(EncBlowfishCBC), MinBits: 40, MaxBits: 448},
	{Name: "rijndael-cbc", Aliases: []string{"aes-cbc"}, ID: uint8(EncAESCBC), MinBits: 128, MaxBits: 256},
	{Name: "aes-ctr", ID: uint8(EncAESCTR), MinBits: 160, MaxBits: 288},
	{Name: "aes-ccm-8", ID: uint8(EncAESCCMICV8), MinBits: 152, MaxBits: 280},
	{Name: "aes-ccm-12", ID: uint8(EncAESCCMICV12), MinBits: 152, MaxBits: 280},
	{Name: "aes-ccm-16", ID: uint8(EncAESCCMICV16), MinBits: 152, MaxBits: 280},
	{Name: "aes-gcm-8", ID: uint8(EncAESGCMICV8), MinBits: 160, MaxBits: 288},
	{Name: "aes-gcm-12", ID: uint8(EncAESGCMICV12), MinBits: 160, MaxBits: 288},
	{Name: "aes-gcm-16", ID: uint8(EncAESGCMICV16), MinBits: 160, MaxBits: 288},
	{Name: "camellia-cbc", ID: uint8(EncCamelliaCBC), MinBits: 128, MaxBits: 256},
	{Name: "null-aes-gmac", Aliases: []string{"aes-gmac"}, ID: uint8(EncNullAESGMAC), MinBits: 160, MaxBits: 288},
	{Name: "sm4-cbc", ID: uint8(EncSM4CBC), MinBits: 128, MaxBits: 128},
	{Name: "serpent-cbc", ID: uint8(EncSerpentCBC), MinBits: 128, MaxBits: 256},
	{Name: "twofish-cbc", ID: uint8(EncTwofishCBC), MinBits: 128, MaxBits: 256},
}

var freebsdEnc = []AlgInfo{
	{Name: "null", Aliases: []string{"simple"}, ID: uint8(EncNull)},
	{Name: "des-cbc", ID: uint8(EncDESCBC), MinBits: 64, MaxBits: 64},
	{Name: "3des-cbc", ID: uint8(Enc3DESCBC), MinBits: 192, MaxBits: 192},
	{Name: "cast128-cbc", ID: uint8(EncCAST128CBC), MinBits: 40, MaxBits: 128},
	{Name: "blowfish-cbc", ID: uint8(EncBlowfishCBC), MinBits: 40, MaxBits: 448},
	{Name: "rijndael-cbc", Aliases: []string{"aes-cbc"}, ID: uint8(EncAESCBC), MinBits: 128, MaxBits: 256},
	{Name: "aes-ctr", ID: uint8(EncAESCTR), MinBits: 160, MaxBits: 288},
	{Name: "aes-gcm-8", ID: uint8(EncAESGCMICV8), MinBits: 160, MaxBits: 288},
	{Name: "aes-gcm-12", ID: uint8(EncAESGCMICV12), MinBits: 160, MaxBits: 288},
	{Name: "aes-gcm-16", ID: uint8(EncAESGCMICV16), MinBits: 160, MaxBits: 288},
	{Name: "camellia-cbc", ID: uint8(EncCamelliaCBC), MinBits: 128, MaxBits: 256},
	{Name: "aes-gmac", ID: uint8(EncNullAESGMAC), MinBits: 160, MaxBits: 288},
}

var commonComp = []AlgInfo{
	{Name: "oui", ID: uint8(CompOUI)},
	{Name: "deflate", ID: uint8(CompDeflate)},
	{Name: "lzs", ID: uint8(CompLZS)},
}

func lookupAlg(list []AlgInfo, name string) (AlgInfo, bool) {
	name = strings.ToLower(name)
	for _, a := range list {
		if a.Name == name {
			return a, true
		}
		for _, al := range a.Aliases {
			if al == name {
				return a, true
			}
		}
	}
	return AlgInfo{}, false
}

func algByID(list []AlgInfo, id uint8) (AlgInfo, bool) {
	for _, a := range list {
		if a.ID == id {
			return a, true
		}
	}
	return AlgInfo{}, false
}

// AuthAlgs lists the dialect's authentication algorithms.
func (d *Dialect) AuthAlgs() []AlgInfo { return d.auth }

// EncAlgs lists the dialect's encryption algorithms.
func (d *Dialect) EncAlgs() []AlgInfo { return d.enc }

// CompAlgs lists the dialect's IPComp algorithms.
func (d *Dialect) CompAlgs() []AlgInfo { return d.comp }

// LookupAuth finds an authentication algorithm by setkey name
// ("hmac-sha1").
func (d *Dialect) LookupAuth(name string) (AlgInfo, bool) { return lookupAlg(d.auth, name) }

// LookupEnc finds an encryption algorithm by setkey name ("rijndael-cbc",
// "aes-gcm-16").
func (d *Dialect) LookupEnc(name string) (AlgInfo, bool) { return lookupAlg(d.enc, name) }

// LookupComp finds an IPComp algorithm by setkey name ("deflate").
func (d *Dialect) LookupComp(name string) (AlgInfo, bool) { return lookupAlg(d.comp, name) }

// AuthName returns the setkey name of an authentication algorithm number,
// or "" if the dialect has none. AuthNone gives "none".
func (d *Dialect) AuthName(a AuthAlg) string {
	if a == AuthNone {
		return "none"
	}
	if i, ok := algByID(d.auth, uint8(a)); ok {
		return i.Name
	}
	return ""
}

// EncName returns the setkey name of an encryption algorithm number, or ""
// if the dialect has none. EncNone gives "none".
func (d *Dialect) EncName(e EncAlg) string {
	if e == EncNone {
		return "none"
	}
	if i, ok := algByID(d.enc, uint8(e)); ok {
		return i.Name
	}
	return ""
}

// CompName returns the setkey name of an IPComp algorithm number, or "".
func (d *Dialect) CompName(c CompAlg) string {
	if c == CompNone {
		return "none"
	}
	if i, ok := algByID(d.comp, uint8(c)); ok {
		return i.Name
	}
	return ""
}
