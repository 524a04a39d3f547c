package pfkey

import (
	"errors"
	"fmt"
	"net/netip"
)

// ParseError is a decoding error. It names the message type, the
// extension and the byte offset in the message where decoding stopped.
type ParseError struct {
	Dialect string
	Type    MsgType // 0 if the header itself could not be read
	Ext     string  // extension name, "" for the header
	Offset  int
	Err     error
}

func (e *ParseError) Error() string {
	where := "header"
	if e.Ext != "" {
		where = e.Ext
	}
	if e.Type == 0 && e.Ext == "" {
		return fmt.Sprintf("pfkey(%s): %s at offset %d: %v", e.Dialect, where, e.Offset, e.Err)
	}
	return fmt.Sprintf("pfkey(%s): %v: %s at offset %d: %v", e.Dialect, e.Type, where, e.Offset, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ErrTruncated is wrapped by ParseError when a length points past the end
// of the buffer.
var ErrTruncated = errors.New("truncated")

// Unmarshal decodes one message, which must fill b exactly.
func (d *Dialect) Unmarshal(b []byte) (*Message, error) {
	m := new(Message)
	if err := d.UnmarshalInto(m, b); err != nil {
		return nil, err
	}
	return m, nil
}

// UnmarshalInto decodes one message into m (overwriting it). The message
// must fill b exactly. m owns no part of b afterwards.
func (d *Dialect) UnmarshalInto(m *Message, b []byte) error {
	*m = Message{}
	perr := func(ext string, off int, err error) error {
		return &ParseError{Dialect: d.Name, Type: m.Type, Ext: ext, Offset: off, Err: err}
	}
	if len(b) < msgHeaderLen {
		return perr("", 0, fmt.Errorf("%w: %d bytes, header needs %d", ErrTruncated, len(b), msgHeaderLen))
	}
	m.Version = b[0]
	m.Type = MsgType(b[1])
	m.Errno = b[2]
	m.SAType = SAType(b[3])
	ml := int(d.ByteOrder.Uint16(b[4:])) * 8
	m.Reserved = d.ByteOrder.Uint16(b[6:])
	m.Seq = d.ByteOrder.Uint32(b[8:])
	m.PID = d.ByteOrder.Uint32(b[12:])
	if m.Version != Version {
		return perr("", 0, fmt.Errorf("version %d, want %d", m.Version, Version))
	}
	if ml != len(b) {
		if ml > len(b) {
			return perr("", 4, fmt.Errorf("%w: sadb_msg_len says %d bytes, have %d", ErrTruncated, ml, len(b)))
		}
		return perr("", 4, fmt.Errorf("sadb_msg_len says %d bytes, have %d", ml, len(b)))
	}
	var seen [numKinds]bool
	off := msgHeaderLen
	for off < len(b) {
		if len(b)-off < extHeaderLen {
			return perr("", off, fmt.Errorf("%w: %d bytes left for an extension header", ErrTruncated, len(b)-off))
		}
		el := int(d.ByteOrder.Uint16(b[off:])) * 8
		t := ExtType(d.ByteOrder.Uint16(b[off+2:]))
		name := d.ExtName(t)
		if el == 0 {
			return perr(name, off, errors.New("extension length 0"))
		}
		if el > len(b)-off {
			return perr(name, off, fmt.Errorf("%w: extension length %d, %d bytes left", ErrTruncated, el, len(b)-off))
		}
		e := b[off : off+el]
		k := d.exts[t]
		if k == kindUnknown {
			m.Unknown = append(m.Unknown, RawExtension{Type: t, Data: append([]byte(nil), e[extHeaderLen:]...)})
		} else {
			if seen[k] {
				return perr(name, off, errors.New("duplicate extension"))
			}
			seen[k] = true
			if err := d.decodeExt(m, k, e); err != nil {
				return perr(name, off, err)
			}
		}
		off += el
	}
	return nil
}

func wantLen(e []byte, n int) error {
	if len(e) != n {
		return fmt.Errorf("length %d, want %d", len(e), n)
	}
	return nil
}

func minLen(e []byte, n int) error {
	if len(e) < n {
		return fmt.Errorf("length %d, want at least %d", len(e), n)
	}
	return nil
}

func (d *Dialect) decodeExt(m *Message, k extKind, e []byte) error {
	bo := d.ByteOrder
	switch k {
	case kindSA:
		if err := wantLen(e, saLen); err != nil {
			return err
		}
		m.SA = &SA{
			SPI:    uint32(e[4])<<24 | uint32(e[5])<<16 | uint32(e[6])<<8 | uint32(e[7]),
			Replay: e[8], State: SAState(e[9]), Auth: AuthAlg(e[10]), Enc: EncAlg(e[11]),
			Flags: SAFlags(bo.Uint32(e[12:])),
		}
	case kindLifetimeCurrent, kindLifetimeHard, kindLifetimeSoft:
		if err := wantLen(e, lifetimeLen); err != nil {
			return err
		}
		l := &Lifetime{Allocations: bo.Uint32(e[4:]), Bytes: bo.Uint64(e[8:]), AddTime: bo.Uint64(e[16:]), UseTime: bo.Uint64(e[24:])}
		switch k {
		case kindLifetimeCurrent:
			m.LifetimeCurrent = l
		case kindLifetimeHard:
			m.LifetimeHard = l
		default:
			m.LifetimeSoft = l
		}
	case kindAddressSrc, kindAddressDst, kindAddressProxy, kindNATTOAI, kindNATTOAR, kindNewAddressSrc, kindNewAddressDst:
		a, err := d.decodeAddress(e)
		if err != nil {
			return err
		}
		switch k {
		case kindAddressSrc:
			m.Src = a
		case kindAddressDst:
			m.Dst = a
		case kindAddressProxy:
			m.Proxy = a
		case kindNATTOAI:
			m.NATTOAI = a
		case kindNATTOAR:
			m.NATTOAR = a
		case kindNewAddressSrc:
			m.NewSrc = a
		default:
			m.NewDst = a
		}
	case kindKeyAuth, kindKeyEncrypt:
		if err := minLen(e, keyHdrLen); err != nil {
			return err
		}
		key := &Key{Bits: bo.Uint16(e[4:]), Reserved: bo.Uint16(e[6:])}
		nb := (int(key.Bits) + 7) / 8
		if nb > len(e)-keyHdrLen {
			return fmt.Errorf("key of %d bits in %d bytes", key.Bits, len(e)-keyHdrLen)
		}
		if align8(keyHdrLen+nb) != len(e) {
			return fmt.Errorf("length %d for a key of %d bits, want %d", len(e), key.Bits, align8(keyHdrLen+nb))
		}
		key.Data = append([]byte(nil), e[keyHdrLen:keyHdrLen+nb]...)
		if k == kindKeyAuth {
			m.AuthKey = key
		} else {
			m.EncKey = key
		}
	case kindIdentitySrc, kindIdentityDst:
		if err := minLen(e, identHdrLen); err != nil {
			return err
		}
		data := e[identHdrLen:]
		for len(data) > 0 && data[len(data)-1] == 0 {
			data = data[:len(data)-1]
		}
		id := &Identity{Type: IdentType(bo.Uint16(e[4:])), Reserved: bo.Uint16(e[6:]), ID: bo.Uint64(e[8:])}
		if len(data) > 0 {
			id.Data = append([]byte(nil), data...)
		}
		if k == kindIdentitySrc {
			m.SrcIdentity = id
		} else {
			m.DstIdentity = id
		}
	case kindSensitivity:
		if err := minLen(e, sensHdrLen); err != nil {
			return err
		}
		s := &Sensitivity{DPD: bo.Uint32(e[4:]), SensLevel: e[8], IntegLevel: e[10], Reserved: bo.Uint32(e[12:])}
		ns, ni := int(e[9]), int(e[11])
		if err := wantLen(e, sensHdrLen+8*(ns+ni)); err != nil {
			return fmt.Errorf("%d+%d bitmap words: %w", ns, ni, err)
		}
		p := e[sensHdrLen:]
		if ns > 0 {
			s.Sens = make([]uint64, ns)
			for i := range s.Sens {
				s.Sens[i] = bo.Uint64(p[8*i:])
			}
		}
		p = p[8*ns:]
		if ni > 0 {
			s.Integ = make([]uint64, ni)
			for i := range s.Integ {
				s.Integ[i] = bo.Uint64(p[8*i:])
			}
		}
		m.Sensitivity = s
	case kindProposal:
		if err := minLen(e, propHdrLen); err != nil {
			return err
		}
		if (len(e)-propHdrLen)%combLen != 0 {
			return fmt.Errorf("length %d is not %d plus a multiple of %d", len(e), propHdrLen, combLen)
		}
		p := &Proposal{Replay: e[4]}
		n := (len(e) - propHdrLen) / combLen
		if n > 0 {
			p.Combs = make([]Comb, n)
		}
		for i := range p.Combs {
			c := e[propHdrLen+i*combLen:]
			p.Combs[i] = Comb{
				Auth: AuthAlg(c[0]), Enc: EncAlg(c[1]), Flags: bo.Uint16(c[2:]),
				AuthMinBits: bo.Uint16(c[4:]), AuthMaxBits: bo.Uint16(c[6:]),
				EncMinBits: bo.Uint16(c[8:]), EncMaxBits: bo.Uint16(c[10:]),
				Reserved: bo.Uint32(c[12:]), SoftAllocations: bo.Uint32(c[16:]), HardAllocations: bo.Uint32(c[20:]),
				SoftBytes: bo.Uint64(c[24:]), HardBytes: bo.Uint64(c[32:]),
				SoftAddTime: bo.Uint64(c[40:]), HardAddTime: bo.Uint64(c[48:]),
				SoftUseTime: bo.Uint64(c[56:]), HardUseTime: bo.Uint64(c[64:]),
			}
		}
		m.Proposal = p
	case kindSupportedAuth, kindSupportedEncrypt:
		if err := minLen(e, supportedHdrLen); err != nil {
			return err
		}
		s := &Supported{Reserved: bo.Uint32(e[4:])}
		n := (len(e) - supportedHdrLen) / algLen
		if n > 0 {
			s.Algs = make([]Alg, n)
		}
		for i := range s.Algs {
			a := e[supportedHdrLen+i*algLen:]
			s.Algs[i] = Alg{ID: a[0], IVLen: a[1], MinBits: bo.Uint16(a[2:]), MaxBits: bo.Uint16(a[4:]), Reserved: bo.Uint16(a[6:])}
		}
		if k == kindSupportedAuth {
			m.SupportedAuth = s
		} else {
			m.SupportedEnc = s
		}
	case kindSPIRange:
		if err := wantLen(e, spiRangeLen); err != nil {
			return err
		}
		m.SPIRange = &SPIRange{Min: bo.Uint32(e[4:]), Max: bo.Uint32(e[8:]), Reserved: bo.Uint32(e[12:])}
	case kindKMPrivate:
		if err := minLen(e, kmPrivateHdrLen); err != nil {
			return err
		}
		p := &KMPrivate{Reserved: bo.Uint32(e[4:])}
		if len(e) > kmPrivateHdrLen {
			p.Data = append([]byte(nil), e[kmPrivateHdrLen:]...)
		}
		m.KMPrivate = p
	case kindPolicy:
		p, err := d.decodePolicy(e)
		if err != nil {
			return err
		}
		m.Policy = p
	case kindSA2:
		if err := wantLen(e, sa2Len); err != nil {
			return err
		}
		m.SA2 = &SA2{Mode: Mode(e[4]), Reserved1: e[5], Reserved2: bo.Uint16(e[6:]), Sequence: bo.Uint32(e[8:]), ReqID: bo.Uint32(e[12:])}
	case kindNATTType:
		if err := wantLen(e, nattTypeLen); err != nil {
			return err
		}
		m.NATTType = &NATTType{Type: e[4]}
	case kindNATTSport, kindNATTDport:
		if err := wantLen(e, nattPortLen); err != nil {
			return err
		}
		p := &NATTPort{Port: uint16(e[4])<<8 | uint16(e[5]), Reserved: bo.Uint16(e[6:])}
		if k == kindNATTSport {
			m.NATTSport = p
		} else {
			m.NATTDport = p
		}
	case kindNATTFrag:
		if err := wantLen(e, nattFragLen); err != nil {
			return err
		}
		m.NATTFrag = &NATTFrag{FragLen: bo.Uint16(e[4:]), Reserved: bo.Uint16(e[6:])}
	case kindSAReplay:
		if err := wantLen(e, saReplayLen); err != nil {
			return err
		}
		m.SAReplay = &SAReplay{Replay: bo.Uint32(e[4:])}
	case kindSecCtx:
		if err := minLen(e, secCtxHdrLen); err != nil {
			return err
		}
		n := int(bo.Uint16(e[6:]))
		if err := wantLen(e, align8(secCtxHdrLen+n)); err != nil {
			return fmt.Errorf("context of %d bytes: %w", n, err)
		}
		m.SecCtx = &SecCtx{Alg: e[4], DOI: e[5], Context: append([]byte(nil), e[secCtxHdrLen:secCtxHdrLen+n]...)}
	case kindKMAddress:
		if err := minLen(e, kmAddressHdrLen); err != nil {
			return err
		}
		a := &KMAddress{Reserved: bo.Uint32(e[4:])}
		p := e[kmAddressHdrLen:]
		var n int
		var err error
		if a.Local, n, err = d.ParseSockaddr(p); err != nil {
			return fmt.Errorf("local: %w", err)
		}
		p = p[n:]
		if a.Remote, n, err = d.ParseSockaddr(p); err != nil {
			return fmt.Errorf("remote: %w", err)
		}
		if err := padding(p[n:]); err != nil {
			return err
		}
		m.KMAddress = a
	case kindFilter:
		if err := wantLen(e, filterLen); err != nil {
			return err
		}
		fam := bo.Uint16(e[36:])
		sp, dp := int(e[38]), int(e[39])
		f := &Filter{}
		switch fam {
		case d.AFInet:
			if sp > 32 || dp > 32 {
				return fmt.Errorf("prefix lengths %d/%d for IPv4", sp, dp)
			}
			f.Src = netip.PrefixFrom(netip.AddrFrom4([4]byte(e[4:8])), sp)
			f.Dst = netip.PrefixFrom(netip.AddrFrom4([4]byte(e[20:24])), dp)
		case d.AFInet6:
			if sp > 128 || dp > 128 {
				return fmt.Errorf("prefix lengths %d/%d for IPv6", sp, dp)
			}
			f.Src = netip.PrefixFrom(netip.AddrFrom16([16]byte(e[4:20])), sp)
			f.Dst = netip.PrefixFrom(netip.AddrFrom16([16]byte(e[20:36])), dp)
		default:
			return fmt.Errorf("unsupported address family %d", fam)
		}
		m.Filter = f
	default:
		return errors.New("no decoder")
	}
	return nil
}

// padding checks that what follows the last sockaddr is less than 8 bytes.
func padding(p []byte) error {
	if len(p) >= 8 {
		return fmt.Errorf("%d trailing bytes after the sockaddrs", len(p))
	}
	return nil
}

func (d *Dialect) decodeAddress(e []byte) (*Address, error) {
	if err := minLen(e, addressHdrLen); err != nil {
		return nil, err
	}
	a := &Address{Proto: Proto(e[4]), PrefixLen: e[5], Reserved: d.ByteOrder.Uint16(e[6:])}
	ap, n, err := d.ParseSockaddr(e[addressHdrLen:])
	if err != nil {
		return nil, err
	}
	if err := wantLen(e, align8(addressHdrLen+n)); err != nil {
		return nil, err
	}
	if int(a.PrefixLen) > ap.Addr().BitLen() {
		return nil, fmt.Errorf("prefix length %d for %v", a.PrefixLen, ap.Addr())
	}
	a.Addr = ap
	return a, nil
}

func (d *Dialect) decodePolicy(e []byte) (*Policy, error) {
	if err := minLen(e, policyHdrLen); err != nil {
		return nil, err
	}
	bo := d.ByteOrder
	p := &Policy{Type: PolicyType(bo.Uint16(e[4:])), Dir: Direction(e[6]), Scope: PolicyScope(e[7]), ID: bo.Uint32(e[8:]), Priority: bo.Uint32(e[12:])}
	rest := e[policyHdrLen:]
	off := policyHdrLen
	for i := 0; len(rest) > 0; i++ {
		if len(rest) < d.IPSecRequestLen {
			return nil, fmt.Errorf("ipsecrequest %d at offset %d: %w: %d bytes left, header needs %d", i, off, ErrTruncated, len(rest), d.IPSecRequestLen)
		}
		rl := int(bo.Uint16(rest))
		if rl < d.IPSecRequestLen || rl > len(rest) {
			return nil, fmt.Errorf("ipsecrequest %d at offset %d: length %d (%d bytes left, minimum %d)", i, off, rl, len(rest), d.IPSecRequestLen)
		}
		r := IPSecRequest{Proto: Proto(bo.Uint16(rest[2:])), Mode: Mode(rest[4]), Level: Level(rest[5])}
		if bo.Uint16(rest[2:]) > 0xff {
			return nil, fmt.Errorf("ipsecrequest %d at offset %d: protocol %d", i, off, bo.Uint16(rest[2:]))
		}
		if d.IPSecRequestLen == 8 {
			r.ReqID = uint32(bo.Uint16(rest[6:]))
		} else {
			r.ReqID = bo.Uint32(rest[8:])
		}
		addrs := rest[d.IPSecRequestLen:rl]
		if len(addrs) >= 8 {
			var n int
			var err error
			if r.Src, n, err = d.ParseSockaddr(addrs); err != nil {
				return nil, fmt.Errorf("ipsecrequest %d at offset %d: source: %w", i, off, err)
			}
			addrs = addrs[n:]
			if r.Dst, n, err = d.ParseSockaddr(addrs); err != nil {
				return nil, fmt.Errorf("ipsecrequest %d at offset %d: destination: %w", i, off, err)
			}
			if r.Src.Addr().Is4() != r.Dst.Addr().Is4() {
				return nil, fmt.Errorf("ipsecrequest %d at offset %d: endpoints of different families", i, off)
			}
			addrs = addrs[n:]
		}
		if err := padding(addrs); err != nil {
			return nil, fmt.Errorf("ipsecrequest %d at offset %d: %w", i, off, err)
		}
		p.Requests = append(p.Requests, r)
		rest = rest[rl:]
		off += rl
	}
	return p, nil
}
