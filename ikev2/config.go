package ikev2

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ikectx/ikectx/ikev2/msg"
)

// Identity is an IKE identity (ID payload type and data).
type Identity struct {
	Type uint8
	Data []byte
}

// ParseIdentity reads "fqdn:host", "email:a@b", "keyid:text", an IP
// address, or (as strongSwan does) a string with '@' as RFC822 and
// anything else as FQDN.
func ParseIdentity(s string) (Identity, error) {
	if s == "" {
		return Identity{}, fmt.Errorf("empty identity")
	}
	if k, v, ok := strings.Cut(s, ":"); ok {
		switch k {
		case "fqdn":
			return Identity{msg.IDTypeFQDN, []byte(v)}, nil
		case "email", "rfc822", "user_fqdn":
			return Identity{msg.IDTypeRFC822, []byte(v)}, nil
		case "keyid":
			return Identity{msg.IDTypeKeyID, []byte(v)}, nil
		}
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Is4() {
			return Identity{msg.IDTypeIPv4, a.AsSlice()}, nil
		}
		return Identity{msg.IDTypeIPv6, a.AsSlice()}, nil
	}
	if strings.Contains(s, "@") && !strings.HasPrefix(s, "@") {
		return Identity{msg.IDTypeRFC822, []byte(s)}, nil
	}
	return Identity{msg.IDTypeFQDN, []byte(strings.TrimPrefix(s, "@"))}, nil
}

func (i Identity) String() string {
	switch i.Type {
	case msg.IDTypeIPv4, msg.IDTypeIPv6:
		if a, ok := netip.AddrFromSlice(i.Data); ok {
			return a.String()
		}
	case msg.IDTypeFQDN, msg.IDTypeRFC822, msg.IDTypeKeyID:
		return string(i.Data)
	}
	return fmt.Sprintf("id%d:%x", i.Type, i.Data)
}

// Equal compares type and data.
func (i Identity) Equal(o Identity) bool {
	return i.Type == o.Type && string(i.Data) == string(o.Data)
}

func (i Identity) payload(resp bool) *msg.ID {
	return &msg.ID{Responder: resp, IDType: i.Type, Data: append([]byte(nil), i.Data...)}
}

// PADEntry is one Peer Authorization Database entry (RFC 4301 4.4.3):
// the peer's identity, the authentication method and the secret.
type PADEntry struct {
	ID     Identity
	Method string // "psk"
	PSK    []byte
}

// Config is one connection: the IKE SA and the child SA it negotiates.
type Config struct {
	Name          string
	LocalAddr     netip.Addr // unspecified: any
	RemoteAddr    netip.Addr // unspecified: any (responder only)
	LocalID       Identity
	RemoteID      Identity
	IKEProposals  []msg.Proposal
	ESPProposals  []msg.Proposal
	LocalTS       []netip.Prefix
	RemoteTS      []netip.Prefix
	Transport     bool
	IKELifetime   time.Duration
	ChildLifetime time.Duration
	MOBIKE        bool
	// UpdateSPI is the notify type of the UPDATE_SPI extension; 0
	// disables it.
	UpdateSPI msg.NotifyType
}

var encrNames = map[string]msg.Transform{}

func init() {
	for _, bits := range []int{128, 192, 256} {
		b := strconv.Itoa(bits)
		encrNames["aes"+b] = msg.Transform{Type: msg.TransENCR, ID: msg.ENCR_AES_CBC}.WithKeyLength(bits)
		encrNames["aes"+b+"gcm16"] = msg.Transform{Type: msg.TransENCR, ID: msg.ENCR_AES_GCM_16}.WithKeyLength(bits)
		encrNames["aes"+b+"gcm12"] = msg.Transform{Type: msg.TransENCR, ID: msg.ENCR_AES_GCM_12}.WithKeyLength(bits)
		encrNames["aes"+b+"gcm"] = encrNames["aes"+b+"gcm16"]
	}
}

var integNames = map[string]uint16{
	"sha1":   msg.AUTH_HMAC_SHA1_96,
	"sha256": msg.AUTH_HMAC_SHA2_256_128, "sha384": msg.AUTH_HMAC_SHA2_384_192, "sha512": msg.AUTH_HMAC_SHA2_512_256,
	"sha2_256": msg.AUTH_HMAC_SHA2_256_128, "sha2_384": msg.AUTH_HMAC_SHA2_384_192, "sha2_512": msg.AUTH_HMAC_SHA2_512_256,
}

var prfNames = map[string]uint16{
	"prfsha1":   msg.PRF_HMAC_SHA1,
	"prfsha256": msg.PRF_HMAC_SHA2_256, "prfsha384": msg.PRF_HMAC_SHA2_384, "prfsha512": msg.PRF_HMAC_SHA2_512,
}

var integToPRF = map[uint16]uint16{
	msg.AUTH_HMAC_SHA1_96:      msg.PRF_HMAC_SHA1,
	msg.AUTH_HMAC_SHA2_256_128: msg.PRF_HMAC_SHA2_256, msg.AUTH_HMAC_SHA2_384_192: msg.PRF_HMAC_SHA2_384,
	msg.AUTH_HMAC_SHA2_512_256: msg.PRF_HMAC_SHA2_512,
}

var dhNames = map[string]uint16{
	"modp2048": msg.DH_MODP2048, "ecp256": msg.DH_ECP256, "x25519": msg.DH_CURVE25519, "curve25519": msg.DH_CURVE25519,
}

// ParseProposal reads a strongSwan-style proposal string such as
// "aes128-sha256-modp2048" or "aes256gcm16-prfsha384-x25519" for IKE
// (proto ProtoIKE) or "aes128-sha256[-modp2048][-esn]" for ESP.
func ParseProposal(s string, proto msg.ProtocolID) (msg.Proposal, error) {
	p := msg.Proposal{Protocol: proto}
	var encr, integ, prf, dh []msg.Transform
	esn := []msg.Transform{}
	aead := false
	for _, tok := range strings.Split(strings.ToLower(strings.TrimSpace(s)), "-") {
		if t, ok := encrNames[tok]; ok {
			encr = append(encr, t)
			aead = aead || t.ID != msg.ENCR_AES_CBC
			continue
		}
		if id, ok := integNames[tok]; ok {
			integ = append(integ, msg.Transform{Type: msg.TransINTEG, ID: id})
			continue
		}
		if id, ok := prfNames[tok]; ok {
			prf = append(prf, msg.Transform{Type: msg.TransPRF, ID: id})
			continue
		}
		if id, ok := dhNames[tok]; ok {
			dh = append(dh, msg.Transform{Type: msg.TransDH, ID: id})
			continue
		}
		switch tok {
		case "esn":
			esn = append(esn, msg.Transform{Type: msg.TransESN, ID: msg.ESN_YES})
			continue
		case "noesn":
			esn = append(esn, msg.Transform{Type: msg.TransESN, ID: msg.ESN_NO})
			continue
		}
		return p, fmt.Errorf("proposal %q: unknown algorithm %q", s, tok)
	}
	if len(encr) == 0 {
		return p, fmt.Errorf("proposal %q: no encryption algorithm", s)
	}
	if proto == msg.ProtoIKE {
		if len(prf) == 0 {
			for _, t := range integ {
				prf = append(prf, msg.Transform{Type: msg.TransPRF, ID: integToPRF[t.ID]})
			}
		}
		if len(prf) == 0 {
			return p, fmt.Errorf("proposal %q: no PRF (add prfsha256)", s)
		}
		if len(dh) == 0 {
			return p, fmt.Errorf("proposal %q: no DH group", s)
		}
		if aead {
			integ = nil
		} else if len(integ) == 0 {
			return p, fmt.Errorf("proposal %q: no integrity algorithm", s)
		}
		p.Transforms = append(append(append(append(p.Transforms, encr...), integ...), prf...), dh...)
		return p, nil
	}
	if len(prf) != 0 {
		return p, fmt.Errorf("proposal %q: PRF in an ESP proposal", s)
	}
	if aead {
		integ = nil
	} else if len(integ) == 0 {
		return p, fmt.Errorf("proposal %q: no integrity algorithm", s)
	}
	if len(esn) == 0 {
		esn = []msg.Transform{{Type: msg.TransESN, ID: msg.ESN_NO}}
	}
	p.Transforms = append(append(append(append(p.Transforms, encr...), integ...), dh...), esn...)
	return p, nil
}

// ProposalString names a chosen proposal the way ParseProposal reads it.
func ProposalString(p msg.Proposal) string {
	var parts []string
	for _, t := range p.Transforms {
		switch t.Type {
		case msg.TransENCR:
			for k, v := range encrNames {
				if v.ID == t.ID && v.KeyLength() == t.KeyLength() && !strings.HasSuffix(k, "gcm") {
					parts = append(parts, k)
					break
				}
			}
		case msg.TransINTEG:
			for k, v := range integNames {
				if v == t.ID && !strings.HasPrefix(k, "sha2_") {
					parts = append(parts, k)
				}
			}
		case msg.TransPRF:
			for k, v := range prfNames {
				if v == t.ID {
					parts = append(parts, k)
				}
			}
		case msg.TransDH:
			for k, v := range dhNames {
				if v == t.ID && k != "curve25519" {
					parts = append(parts, k)
				}
			}
		case msg.TransESN:
			if t.ID == msg.ESN_YES {
				parts = append(parts, "esn")
			}
		}
	}
	return strings.Join(parts, "-")
}

func sameTransform(a, b msg.Transform) bool {
	return a.Type == b.Type && a.ID == b.ID && a.KeyLength() == b.KeyLength()
}

// selectProposal picks, in the peer's order of preference, the first
// offered proposal that one of ours accepts, and returns it with one
// transform per type (the peer's SPI and number kept).
func selectProposal(offered, ours []msg.Proposal) (msg.Proposal, bool) {
	for _, p := range offered {
		for _, q := range ours {
			if p.Protocol != q.Protocol {
				continue
			}
			if r, ok := matchProposal(p, q); ok {
				return r, true
			}
		}
	}
	return msg.Proposal{}, false
}

func matchProposal(p, q msg.Proposal) (msg.Proposal, bool) {
	r := msg.Proposal{Num: p.Num, Protocol: p.Protocol, SPI: p.SPI}
	types := map[msg.TransformType]bool{}
	for _, t := range q.Transforms {
		types[t.Type] = true
	}
	for _, t := range p.Transforms {
		if !types[t.Type] && !(t.Type == msg.TransDH && t.ID == 0) && !(t.Type == msg.TransINTEG && t.ID == 0) {
			return r, false
		}
	}
	for _, tt := range []msg.TransformType{msg.TransENCR, msg.TransINTEG, msg.TransPRF, msg.TransDH, msg.TransESN} {
		if !types[tt] {
			continue
		}
		found := false
		for _, t := range p.Transforms {
			if t.Type != tt {
				continue
			}
			for _, u := range q.Transforms {
				if sameTransform(t, u) {
					r.Transforms = append(r.Transforms, t)
					found = true
					break
				}
			}
			if found {
				break
			}
		}
		if !found {
			return r, false
		}
	}
	return r, true
}

func proposalDH(p msg.Proposal) uint16 {
	for _, t := range p.Transforms {
		if t.Type == msg.TransDH {
			return t.ID
		}
	}
	return 0
}

// acceptedChoice reports whether a responder's chosen proposal is one of
// ours (one transform per type, each offered).
func acceptedChoice(chosen msg.Proposal, ours []msg.Proposal) bool {
	for _, q := range ours {
		if q.Protocol != chosen.Protocol {
			continue
		}
		if r, ok := matchProposal(chosen, q); ok && len(r.Transforms) == len(chosen.Transforms) {
			return true
		}
	}
	return false
}
