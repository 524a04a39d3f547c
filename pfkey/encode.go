package pfkey

import (
	"fmt"
)

// Sizes of the fixed parts (identical in both dialects except the
// ipsecrequest, see Dialect.IPSecRequestLen).
const (
	msgHeaderLen    = 16
	extHeaderLen    = 4
	saLen           = 16
	lifetimeLen     = 32
	addressHdrLen   = 8
	keyHdrLen       = 8
	identHdrLen     = 16
	sensHdrLen      = 16
	propHdrLen      = 8
	combLen         = 72
	supportedHdrLen = 8
	algLen          = 8
	spiRangeLen     = 16
	kmPrivateHdrLen = 8
	policyHdrLen    = 16
	sa2Len          = 16
	nattTypeLen     = 8
	nattPortLen     = 8
	nattFragLen     = 8
	saReplayLen     = 8
	secCtxHdrLen    = 8
	kmAddressHdrLen = 8
	filterLen       = 40

	// MaxMessageLen is the largest message sadb_msg_len can describe.
	MaxMessageLen = 0xffff * 8
)

func align8(n int) int { return (n + 7) &^ 7 }

// Marshal encodes m in the dialect.
func (d *Dialect) Marshal(m *Message) ([]byte, error) {
	return d.Append(make([]byte, 0, 256), m)
}

// Append appends the encoding of m to b. The extensions are written in
// ascending order of their numbers, then the Unknown ones as given.
func (d *Dialect) Append(b []byte, m *Message) ([]byte, error) {
	start := len(b)
	b, off := grow(b, msgHeaderLen)
	v := m.Version
	if v == 0 {
		v = Version
	}
	h := b[off:]
	h[0] = v
	h[1] = byte(m.Type)
	h[2] = m.Errno
	h[3] = byte(m.SAType)
	d.ByteOrder.PutUint16(h[6:], m.Reserved)
	d.ByteOrder.PutUint32(h[8:], m.Seq)
	d.ByteOrder.PutUint32(h[12:], m.PID)

	var err error
	for k := extKind(1); k < numKinds; k++ {
		if !m.has(k) {
			continue
		}
		t := d.extNumber(k)
		if t == 0 {
			return b[:start], d.encErr(m, kindName(k), "extension not available in dialect")
		}
		b, err = d.appendExt(b, t, k, m)
		if err != nil {
			return b[:start], d.encErr(m, d.ExtName(t), err.Error())
		}
	}
	for _, u := range m.Unknown {
		if (extHeaderLen+len(u.Data))%8 != 0 {
			return b[:start], d.encErr(m, d.ExtName(u.Type), fmt.Sprintf("raw extension data of %d bytes is not 4 short of a multiple of 8", len(u.Data)))
		}
		b = d.appendExtHeader(b, u.Type, extHeaderLen+len(u.Data))
		b = append(b, u.Data...)
	}
	n := len(b) - start
	if n > MaxMessageLen {
		return b[:start], d.encErr(m, "", fmt.Sprintf("message of %d bytes exceeds the PF_KEY limit", n))
	}
	d.ByteOrder.PutUint16(b[start+4:], uint16(n/8))
	return b, nil
}

func (d *Dialect) encErr(m *Message, ext, msg string) error {
	if ext != "" {
		return fmt.Errorf("pfkey(%s): encode %v: %s: %s", d.Name, m.Type, ext, msg)
	}
	return fmt.Errorf("pfkey(%s): encode %v: %s", d.Name, m.Type, msg)
}

func grow(b []byte, n int) ([]byte, int) {
	off := len(b)
	if cap(b)-off >= n {
		b = b[:off+n]
		clear(b[off:])
		return b, off
	}
	return append(b, make([]byte, n)...), off
}

// appendExtHeader appends an extension header for an extension whose total
// length (header included, before padding) is n, and returns b with the
// 4-byte header. The caller appends the rest and pads.
func (d *Dialect) appendExtHeader(b []byte, t ExtType, n int) []byte {
	b, off := grow(b, extHeaderLen)
	d.ByteOrder.PutUint16(b[off:], uint16(align8(n)/8))
	d.ByteOrder.PutUint16(b[off+2:], uint16(t))
	return b
}

func pad8(b []byte, start int) []byte {
	n := len(b) - start
	if p := align8(n) - n; p > 0 {
		b, _ = grow(b, p)
	}
	return b
}

func (m *Message) has(k extKind) bool {
	switch k {
	case kindSA:
		return m.SA != nil
	case kindLifetimeCurrent:
		return m.LifetimeCurrent != nil
	case kindLifetimeHard:
		return m.LifetimeHard != nil
	case kindLifetimeSoft:
		return m.LifetimeSoft != nil
	case kindAddressSrc:
		return m.Src != nil
	case kindAddressDst:
		return m.Dst != nil
	case kindAddressProxy:
		return m.Proxy != nil
	case kindKeyAuth:
		return m.AuthKey != nil
	case kindKeyEncrypt:
		return m.EncKey != nil
	case kindIdentitySrc:
		return m.SrcIdentity != nil
	case kindIdentityDst:
		return m.DstIdentity != nil
	case kindSensitivity:
		return m.Sensitivity != nil
	case kindProposal:
		return m.Proposal != nil
	case kindSupportedAuth:
		return m.SupportedAuth != nil
	case kindSupportedEncrypt:
		return m.SupportedEnc != nil
	case kindSPIRange:
		return m.SPIRange != nil
	case kindKMPrivate:
		return m.KMPrivate != nil
	case kindPolicy:
		return m.Policy != nil
	case kindSA2:
		return m.SA2 != nil
	case kindNATTType:
		return m.NATTType != nil
	case kindNATTSport:
		return m.NATTSport != nil
	case kindNATTDport:
		return m.NATTDport != nil
	case kindNATTOAI:
		return m.NATTOAI != nil
	case kindNATTOAR:
		return m.NATTOAR != nil
	case kindNATTFrag:
		return m.NATTFrag != nil
	case kindSAReplay:
		return m.SAReplay != nil
	case kindNewAddressSrc:
		return m.NewSrc != nil
	case kindNewAddressDst:
		return m.NewDst != nil
	case kindSecCtx:
		return m.SecCtx != nil
	case kindKMAddress:
		return m.KMAddress != nil
	case kindFilter:
		return m.Filter != nil
	}
	return false
}

var kindNames = [numKinds]string{
	kindSA: "sa", kindLifetimeCurrent: "lifetime_current", kindLifetimeHard: "lifetime_hard",
	kindLifetimeSoft: "lifetime_soft", kindAddressSrc: "address_src", kindAddressDst: "address_dst",
	kindAddressProxy: "address_proxy", kindKeyAuth: "key_auth", kindKeyEncrypt: "key_encrypt",
	kindIdentitySrc: "identity_src", kindIdentityDst: "identity_dst", kindSensitivity: "sensitivity",
	kindProposal: "proposal", kindSupportedAuth: "supported_auth", kindSupportedEncrypt: "supported_encrypt",
	kindSPIRange: "spirange", kindKMPrivate: "x_kmprivate", kindPolicy: "x_policy", kindSA2: "x_sa2",
	kindNATTType: "x_nat_t_type", kindNATTSport: "x_nat_t_sport", kindNATTDport: "x_nat_t_dport",
	kindNATTOAI: "x_nat_t_oai", kindNATTOAR: "x_nat_t_oar", kindNATTFrag: "x_nat_t_frag",
	kindSAReplay: "x_sa_replay", kindNewAddressSrc: "x_new_address_src", kindNewAddressDst: "x_new_address_dst",
	kindSecCtx: "x_sec_ctx", kindKMAddress: "x_kmaddress", kindFilter: "x_filter",
}

func kindName(k extKind) string {
	if k < numKinds && kindNames[k] != "" {
		return kindNames[k]
	}
	return "ext?"
}

func (d *Dialect) appendExt(b []byte, t ExtType, k extKind, m *Message) ([]byte, error) {
	start := len(b)
	bo := d.ByteOrder
	switch k {
	case kindSA:
		b = d.appendExtHeader(b, t, saLen)
		b, o := grow(b, saLen-extHeaderLen)
		s := m.SA
		b[o], b[o+1], b[o+2], b[o+3] = byte(s.SPI>>24), byte(s.SPI>>16), byte(s.SPI>>8), byte(s.SPI)
		b[o+4] = s.Replay
		b[o+5] = byte(s.State)
		b[o+6] = byte(s.Auth)
		b[o+7] = byte(s.Enc)
		bo.PutUint32(b[o+8:], uint32(s.Flags))
		return b, nil
	case kindLifetimeCurrent, kindLifetimeHard, kindLifetimeSoft:
		l := m.LifetimeCurrent
		if k == kindLifetimeHard {
			l = m.LifetimeHard
		} else if k == kindLifetimeSoft {
			l = m.LifetimeSoft
		}
		b = d.appendExtHeader(b, t, lifetimeLen)
		b, o := grow(b, lifetimeLen-extHeaderLen)
		bo.PutUint32(b[o:], l.Allocations)
		bo.PutUint64(b[o+4:], l.Bytes)
		bo.PutUint64(b[o+12:], l.AddTime)
		bo.PutUint64(b[o+20:], l.UseTime)
		return b, nil
	case kindAddressSrc, kindAddressDst, kindAddressProxy, kindNATTOAI, kindNATTOAR, kindNewAddressSrc, kindNewAddressDst:
		var a *Address
		switch k {
		case kindAddressSrc:
			a = m.Src
		case kindAddressDst:
			a = m.Dst
		case kindAddressProxy:
			a = m.Proxy
		case kindNATTOAI:
			a = m.NATTOAI
		case kindNATTOAR:
			a = m.NATTOAR
		case kindNewAddressSrc:
			a = m.NewSrc
		default:
			a = m.NewDst
		}
		return d.appendAddress(b, t, a)
	case kindKeyAuth, kindKeyEncrypt:
		key := m.AuthKey
		if k == kindKeyEncrypt {
			key = m.EncKey
		}
		if int(key.Bits) > 8*len(key.Data) {
			return b, fmt.Errorf("key of %d bits has only %d bytes", key.Bits, len(key.Data))
		}
		b = d.appendExtHeader(b, t, keyHdrLen+len(key.Data))
		b, o := grow(b, keyHdrLen-extHeaderLen)
		bo.PutUint16(b[o:], key.Bits)
		bo.PutUint16(b[o+2:], key.Reserved)
		b = append(b, key.Data...)
		return pad8(b, start), nil
	case kindIdentitySrc, kindIdentityDst:
		id := m.SrcIdentity
		if k == kindIdentityDst {
			id = m.DstIdentity
		}
		b = d.appendExtHeader(b, t, identHdrLen+len(id.Data))
		b, o := grow(b, identHdrLen-extHeaderLen)
		bo.PutUint16(b[o:], uint16(id.Type))
		bo.PutUint16(b[o+2:], id.Reserved)
		bo.PutUint64(b[o+4:], id.ID)
		b = append(b, id.Data...)
		return pad8(b, start), nil
	case kindSensitivity:
		s := m.Sensitivity
		if len(s.Sens) > 255 || len(s.Integ) > 255 {
			return b, fmt.Errorf("bitmap longer than 255 words")
		}
		b = d.appendExtHeader(b, t, sensHdrLen+8*(len(s.Sens)+len(s.Integ)))
		b, o := grow(b, sensHdrLen-extHeaderLen)
		bo.PutUint32(b[o:], s.DPD)
		b[o+4] = s.SensLevel
		b[o+5] = uint8(len(s.Sens))
		b[o+6] = s.IntegLevel
		b[o+7] = uint8(len(s.Integ))
		bo.PutUint32(b[o+8:], s.Reserved)
		for _, w := range append(append([]uint64(nil), s.Sens...), s.Integ...) {
			b, o = grow(b, 8)
			bo.PutUint64(b[o:], w)
		}
		return b, nil
	case kindProposal:
		p := m.Proposal
		b = d.appendExtHeader(b, t, propHdrLen+combLen*len(p.Combs))
		b, o := grow(b, propHdrLen-extHeaderLen)
		b[o] = p.Replay
		for i := range p.Combs {
			c := &p.Combs[i]
			b, o = grow(b, combLen)
			b[o] = byte(c.Auth)
			b[o+1] = byte(c.Enc)
			bo.PutUint16(b[o+2:], c.Flags)
			bo.PutUint16(b[o+4:], c.AuthMinBits)
			bo.PutUint16(b[o+6:], c.AuthMaxBits)
			bo.PutUint16(b[o+8:], c.EncMinBits)
			bo.PutUint16(b[o+10:], c.EncMaxBits)
			bo.PutUint32(b[o+12:], c.Reserved)
			bo.PutUint32(b[o+16:], c.SoftAllocations)
			bo.PutUint32(b[o+20:], c.HardAllocations)
			bo.PutUint64(b[o+24:], c.SoftBytes)
			bo.PutUint64(b[o+32:], c.HardBytes)
			bo.PutUint64(b[o+40:], c.SoftAddTime)
			bo.PutUint64(b[o+48:], c.HardAddTime)
			bo.PutUint64(b[o+56:], c.SoftUseTime)
			bo.PutUint64(b[o+64:], c.HardUseTime)
		}
		return b, nil
	case kindSupportedAuth, kindSupportedEncrypt:
		s := m.SupportedAuth
		if k == kindSupportedEncrypt {
			s = m.SupportedEnc
		}
		b = d.appendExtHeader(b, t, supportedHdrLen+algLen*len(s.Algs))
		b, o := grow(b, supportedHdrLen-extHeaderLen)
		bo.PutUint32(b[o:], s.Reserved)
		for _, a := range s.Algs {
			b, o = grow(b, algLen)
			b[o] = a.ID
			b[o+1] = a.IVLen
			bo.PutUint16(b[o+2:], a.MinBits)
			bo.PutUint16(b[o+4:], a.MaxBits)
			bo.PutUint16(b[o+6:], a.Reserved)
		}
		return b, nil
	case kindSPIRange:
		r := m.SPIRange
		b = d.appendExtHeader(b, t, spiRangeLen)
		b, o := grow(b, spiRangeLen-extHeaderLen)
		bo.PutUint32(b[o:], r.Min)
		bo.PutUint32(b[o+4:], r.Max)
		bo.PutUint32(b[o+8:], r.Reserved)
		return b, nil
	case kindKMPrivate:
		p := m.KMPrivate
		b = d.appendExtHeader(b, t, kmPrivateHdrLen+len(p.Data))
		b, o := grow(b, kmPrivateHdrLen-extHeaderLen)
		bo.PutUint32(b[o:], p.Reserved)
		b = append(b, p.Data...)
		return pad8(b, start), nil
	case kindPolicy:
		return d.appendPolicy(b, t, m.Policy)
	case kindSA2:
		s := m.SA2
		b = d.appendExtHeader(b, t, sa2Len)
		b, o := grow(b, sa2Len-extHeaderLen)
		b[o] = byte(s.Mode)
		b[o+1] = s.Reserved1
		bo.PutUint16(b[o+2:], s.Reserved2)
		bo.PutUint32(b[o+4:], s.Sequence)
		bo.PutUint32(b[o+8:], s.ReqID)
		return b, nil
	case kindNATTType:
		b = d.appendExtHeader(b, t, nattTypeLen)
		b, o := grow(b, nattTypeLen-extHeaderLen)
		b[o] = m.NATTType.Type
		return b, nil
	case kindNATTSport, kindNATTDport:
		p := m.NATTSport
		if k == kindNATTDport {
			p = m.NATTDport
		}
		b = d.appendExtHeader(b, t, nattPortLen)
		b, o := grow(b, nattPortLen-extHeaderLen)
		b[o], b[o+1] = byte(p.Port>>8), byte(p.Port)
		bo.PutUint16(b[o+2:], p.Reserved)
		return b, nil
	case kindNATTFrag:
		b = d.appendExtHeader(b, t, nattFragLen)
		b, o := grow(b, nattFragLen-extHeaderLen)
		bo.PutUint16(b[o:], m.NATTFrag.FragLen)
		bo.PutUint16(b[o+2:], m.NATTFrag.Reserved)
		return b, nil
	case kindSAReplay:
		b = d.appendExtHeader(b, t, saReplayLen)
		b, o := grow(b, saReplayLen-extHeaderLen)
		bo.PutUint32(b[o:], m.SAReplay.Replay)
		return b, nil
	case kindSecCtx:
		c := m.SecCtx
		if len(c.Context) > 0xffff {
			return b, fmt.Errorf("security context of %d bytes", len(c.Context))
		}
		b = d.appendExtHeader(b, t, secCtxHdrLen+len(c.Context))
		b, o := grow(b, secCtxHdrLen-extHeaderLen)
		b[o] = c.Alg
		b[o+1] = c.DOI
		bo.PutUint16(b[o+2:], uint16(len(c.Context)))
		b = append(b, c.Context...)
		return pad8(b, start), nil
	case kindKMAddress:
		a := m.KMAddress
		n := SockaddrLen(a.Local) + SockaddrLen(a.Remote)
		b = d.appendExtHeader(b, t, kmAddressHdrLen+n)
		b, o := grow(b, kmAddressHdrLen-extHeaderLen)
		bo.PutUint32(b[o:], a.Reserved)
		var err error
		if b, err = d.AppendSockaddr(b, a.Local); err != nil {
			return b, fmt.Errorf("local: %w", err)
		}
		if b, err = d.AppendSockaddr(b, a.Remote); err != nil {
			return b, fmt.Errorf("remote: %w", err)
		}
		return pad8(b, start), nil
	case kindFilter:
		f := m.Filter
		b = d.appendExtHeader(b, t, filterLen)
		b, o := grow(b, filterLen-extHeaderLen)
		var fam uint16
		src, dst := f.Src.Addr(), f.Dst.Addr()
		switch {
		case src.Is4() && (dst.Is4() || !dst.IsValid()), !src.IsValid() && dst.Is4():
			fam = d.AFInet
		case src.Is6() && (dst.Is6() || !dst.IsValid()), !src.IsValid() && dst.Is6():
			fam = d.AFInet6
		default:
			return b, fmt.Errorf("filter prefixes %v and %v of different families", f.Src, f.Dst)
		}
		if src.IsValid() {
			copy(b[o:o+16], src.AsSlice())
			b[o+34] = uint8(f.Src.Bits())
		}
		if dst.IsValid() {
			copy(b[o+16:o+32], dst.AsSlice())
			b[o+35] = uint8(f.Dst.Bits())
		}
		bo.PutUint16(b[o+32:], fam)
		return b, nil
	}
	return b, fmt.Errorf("no encoder")
}

func (d *Dialect) appendAddress(b []byte, t ExtType, a *Address) ([]byte, error) {
	start := len(b)
	n := SockaddrLen(a.Addr)
	if n == 0 {
		return b, errNoAddress
	}
	b = d.appendExtHeader(b, t, addressHdrLen+n)
	b, o := grow(b, addressHdrLen-extHeaderLen)
	b[o] = byte(a.Proto)
	b[o+1] = a.PrefixLen
	d.ByteOrder.PutUint16(b[o+2:], a.Reserved)
	b, err := d.AppendSockaddr(b, a.Addr)
	if err != nil {
		return b, err
	}
	return pad8(b, start), nil
}

func (d *Dialect) appendPolicy(b []byte, t ExtType, p *Policy) ([]byte, error) {
	n := policyHdrLen
	for i := range p.Requests {
		n += d.requestLen(&p.Requests[i])
	}
	b = d.appendExtHeader(b, t, n)
	b, o := grow(b, policyHdrLen-extHeaderLen)
	d.ByteOrder.PutUint16(b[o:], uint16(p.Type))
	b[o+2] = byte(p.Dir)
	b[o+3] = byte(p.Scope)
	d.ByteOrder.PutUint32(b[o+4:], p.ID)
	d.ByteOrder.PutUint32(b[o+8:], p.Priority)
	for i := range p.Requests {
		var err error
		if b, err = d.appendRequest(b, &p.Requests[i]); err != nil {
			return b, fmt.Errorf("ipsecrequest %d: %w", i, err)
		}
	}
	return b, nil
}

// requestLen is the length of one encoded ipsecrequest (aligned to 8).
func (d *Dialect) requestLen(r *IPSecRequest) int {
	return align8(d.IPSecRequestLen + SockaddrLen(r.Src) + SockaddrLen(r.Dst))
}

func (d *Dialect) appendRequest(b []byte, r *IPSecRequest) ([]byte, error) {
	start := len(b)
	if r.Src.Addr().IsValid() != r.Dst.Addr().IsValid() {
		return b, fmt.Errorf("one tunnel endpoint without the other (%v-%v)", r.Src, r.Dst)
	}
	if r.Src.IsValid() && r.Src.Addr().Is4() != r.Dst.Addr().Is4() {
		return b, fmt.Errorf("tunnel endpoints of different families (%v-%v)", r.Src, r.Dst)
	}
	n := d.requestLen(r)
	b, o := grow(b, d.IPSecRequestLen)
	bo := d.ByteOrder
	bo.PutUint16(b[o:], uint16(n))
	bo.PutUint16(b[o+2:], uint16(r.Proto))
	b[o+4] = byte(r.Mode)
	b[o+5] = byte(r.Level)
	if d.IPSecRequestLen == 8 {
		if r.ReqID > 0xffff {
			return b, fmt.Errorf("reqid %d does not fit the dialect's 16 bits", r.ReqID)
		}
		bo.PutUint16(b[o+6:], uint16(r.ReqID))
	} else {
		bo.PutUint32(b[o+8:], r.ReqID)
	}
	if r.Src.Addr().IsValid() {
		var err error
		if b, err = d.AppendSockaddr(b, r.Src); err != nil {
			return b, err
		}
		if b, err = d.AppendSockaddr(b, r.Dst); err != nil {
			return b, err
		}
	}
	return pad8(b, start), nil
}
