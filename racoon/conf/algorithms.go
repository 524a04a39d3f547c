package conf

// AlgClass is racoon's algorithm class (algorithm.h algclass_*).
type AlgClass int

const (
	ClassISAKMPEnc AlgClass = iota
	ClassISAKMPHash
	ClassISAKMPAuth
	ClassISAKMPDH
	ClassIPsecEnc
	ClassIPsecAuth
	ClassIPsecComp
)

func (c AlgClass) String() string {
	return [...]string{"encryption_algorithm", "hash_algorithm", "authentication_method", "dh_group",
		"encryption_algorithm", "authentication_algorithm", "compression_algorithm"}[c]
}

// keyLen describes the key lengths racoon accepts for a cipher
// (default_keylen / check_keylen in algorithm.c). def == 0: no key length may
// be written.
type keyLen struct {
	def, min, max, step int
	fixed               []int
}

func (k keyLen) ok(n int) bool {
	if k.fixed != nil {
		for _, f := range k.fixed {
			if n == f {
				return true
			}
		}
		return false
	}
	return n >= k.min && n <= k.max && (n-k.min)%k.step == 0
}

var aesKeyLen = keyLen{def: 128, fixed: []int{128, 192, 256}}

// algType is one ALGORITHMTYPE word of the lexer with its DOI value in every
// class it belongs to (algtype2doi); -1 means "algorithm mismatched".
type algType struct {
	name string
	doi  [7]int
	kl   keyLen
	// implemented by ikectx in phase 1 (the value matters only for the
	// phase-1 classes; phase-2 algorithms are the kernel's business).
	phase1 bool
}

func na() [7]int { return [7]int{-1, -1, -1, -1, -1, -1, -1} }

func doi(c AlgClass, v int) [7]int { d := na(); d[c] = v; return d }

func doi2(c1 AlgClass, v1 int, c2 AlgClass, v2 int) [7]int {
	d := na()
	d[c1], d[c2] = v1, v2
	return d
}

// algTypes in the order of cftoken.l. The ISAKMP values are RFC 2409
// appendix A; the IPsec ones RFC 2407 section 4.4 and 4.5.
var algTypes = []algType{
	{name: "des_iv64", doi: doi(ClassIPsecEnc, 1)},
	{name: "des", doi: doi2(ClassISAKMPEnc, 1, ClassIPsecEnc, 2), phase1: true},
	{name: "3des", doi: doi2(ClassISAKMPEnc, 5, ClassIPsecEnc, 3), phase1: true},
	{name: "rc5", doi: doi2(ClassISAKMPEnc, 4, ClassIPsecEnc, 4), kl: keyLen{def: 128, min: 40, max: 2040, step: 8}},
	{name: "idea", doi: doi2(ClassISAKMPEnc, 2, ClassIPsecEnc, 5)},
	{name: "cast128", doi: doi2(ClassISAKMPEnc, 6, ClassIPsecEnc, 6), kl: keyLen{def: 128, min: 40, max: 128, step: 8}},
	{name: "blowfish", doi: doi2(ClassISAKMPEnc, 3, ClassIPsecEnc, 7), kl: keyLen{def: 128, min: 40, max: 448, step: 8}},
	{name: "3idea", doi: doi(ClassIPsecEnc, 8)},
	{name: "des_iv32", doi: doi(ClassIPsecEnc, 9)},
	{name: "rc4", doi: doi(ClassIPsecEnc, 10)},
	{name: "null_enc", doi: doi(ClassIPsecEnc, 11)},
	{name: "null", doi: doi(ClassIPsecEnc, 11)},
	{name: "aes", doi: doi2(ClassISAKMPEnc, 7, ClassIPsecEnc, 12), kl: aesKeyLen, phase1: true},
	{name: "rijndael", doi: doi2(ClassISAKMPEnc, 7, ClassIPsecEnc, 12), kl: aesKeyLen, phase1: true},
	{name: "twofish", doi: doi2(ClassISAKMPEnc, 65004, ClassIPsecEnc, 253), kl: keyLen{def: 128, min: 0, max: 256, step: 8}},
	{name: "camellia", doi: doi2(ClassISAKMPEnc, 8, ClassIPsecEnc, 22), kl: keyLen{def: 128, fixed: []int{128, 192, 256}}},
	{name: "non_auth", doi: doi(ClassIPsecAuth, 0)},
	{name: "hmac_md5", doi: doi(ClassIPsecAuth, 1)},
	{name: "hmac_sha1", doi: doi(ClassIPsecAuth, 2)},
	{name: "hmac_sha2_256", doi: doi(ClassIPsecAuth, 5)},
	{name: "hmac_sha256", doi: doi(ClassIPsecAuth, 5)},
	{name: "hmac_sha2_384", doi: doi(ClassIPsecAuth, 6)},
	{name: "hmac_sha384", doi: doi(ClassIPsecAuth, 6)},
	{name: "hmac_sha2_512", doi: doi(ClassIPsecAuth, 7)},
	{name: "hmac_sha512", doi: doi(ClassIPsecAuth, 7)},
	{name: "des_mac", doi: doi(ClassIPsecAuth, 3)},
	{name: "kpdk", doi: doi(ClassIPsecAuth, 4)},
	{name: "md5", doi: doi(ClassISAKMPHash, 1), phase1: true},
	{name: "sha1", doi: doi(ClassISAKMPHash, 2), phase1: true},
	{name: "tiger", doi: doi(ClassISAKMPHash, 3)},
	{name: "sha2_256", doi: doi(ClassISAKMPHash, 4), phase1: true},
	{name: "sha256", doi: doi(ClassISAKMPHash, 4), phase1: true},
	{name: "sha2_384", doi: doi(ClassISAKMPHash, 5), phase1: true},
	{name: "sha384", doi: doi(ClassISAKMPHash, 5), phase1: true},
	{name: "sha2_512", doi: doi(ClassISAKMPHash, 6), phase1: true},
	{name: "sha512", doi: doi(ClassISAKMPHash, 6), phase1: true},
	{name: "oui", doi: doi(ClassIPsecComp, 1)},
	{name: "deflate", doi: doi(ClassIPsecComp, 2)},
	{name: "lzs", doi: doi(ClassIPsecComp, 3)},
	{name: "modp768", doi: doi(ClassISAKMPDH, 1), phase1: true},
	{name: "modp1024", doi: doi(ClassISAKMPDH, 2), phase1: true},
	{name: "modp1536", doi: doi(ClassISAKMPDH, 5), phase1: true},
	{name: "ec2n155", doi: doi(ClassISAKMPDH, 3)},
	{name: "ec2n185", doi: doi(ClassISAKMPDH, 4)},
	{name: "modp2048", doi: doi(ClassISAKMPDH, 14), phase1: true},
	{name: "modp3072", doi: doi(ClassISAKMPDH, 15), phase1: true},
	{name: "modp4096", doi: doi(ClassISAKMPDH, 16), phase1: true},
	{name: "modp6144", doi: doi(ClassISAKMPDH, 17)},
	{name: "modp8192", doi: doi(ClassISAKMPDH, 18)},
	{name: "pre_shared_key", doi: doi(ClassISAKMPAuth, 1), phase1: true},
	{name: "rsasig", doi: doi(ClassISAKMPAuth, 3)},
	{name: "dsssig", doi: doi(ClassISAKMPAuth, 2)},
	{name: "rsaenc", doi: doi(ClassISAKMPAuth, 4)},
	{name: "rsarev", doi: doi(ClassISAKMPAuth, 5)},
	{name: "gssapi_krb", doi: doi(ClassISAKMPAuth, 65001)},
	// hybrid and xauth methods (draft-ietf-ipsec-isakmp-hybrid-auth,
	// draft-beaulieu-ike-xauth): parsed as by a racoon built with
	// --enable-hybrid.
	{name: "hybrid_rsa_server", doi: doi(ClassISAKMPAuth, 64222)},
	{name: "hybrid_dss_server", doi: doi(ClassISAKMPAuth, 64224)},
	{name: "hybrid_rsa_client", doi: doi(ClassISAKMPAuth, 64221)},
	{name: "hybrid_dss_client", doi: doi(ClassISAKMPAuth, 64223)},
	{name: "xauth_psk_server", doi: doi(ClassISAKMPAuth, 65002)},
	{name: "xauth_psk_client", doi: doi(ClassISAKMPAuth, 65001)},
	{name: "xauth_rsa_server", doi: doi(ClassISAKMPAuth, 65006)},
	{name: "xauth_rsa_client", doi: doi(ClassISAKMPAuth, 65005)},
}

// num2dhgroup of cfparse.y: the group numbers a bare NUMBER may name.
var dhNumbers = map[uint64]string{1: "modp768", 2: "modp1024", 3: "ec2n155", 4: "ec2n185", 5: "modp1536",
	14: "modp2048", 15: "modp3072", 16: "modp4096", 17: "modp6144", 18: "modp8192"}

func algByName(name string) (int, bool) {
	for i, a := range algTypes {
		if a.name == name {
			return i, true
		}
	}
	return 0, false
}

// Algorithm is one algorithm of a proposal or sainfo: its configuration
// name, its DOI value in its class, and (ciphers) the key length in bits.
type Algorithm struct {
	Name   string
	Class  AlgClass
	DOI    int
	KeyLen int // 0 for fixed-length ciphers and non-ciphers
	Pos    Pos
}

// Implemented reports whether ikectx implements this algorithm for phase 1.
func (a Algorithm) Implemented() bool {
	i, ok := algByName(a.Name)
	return ok && algTypes[i].phase1
}
