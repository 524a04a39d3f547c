package setkey

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/ikectx/ikectx/pfkey"
)

// Op is one PF_KEY request made from a statement.
type Op struct {
	Stmt Stmt
	Msg  *pfkey.Message
	// Dump is true for DUMP and SPDDUMP, whose replies come in several parts.
	Dump bool
	// DeleteAll marks a deleteall on a kernel that cannot delete without an
	// SPI (Linux): Msg is the DUMP to run; every SA it returns whose
	// addresses match Match is then deleted.
	DeleteAll bool
	Match     [2]netip.Addr // deleteall: source and destination
}

// Build maps a parsed script onto the PF_KEY messages of dialect d, in
// order. Seq and PID are left 0 for the connection to fill. Statements that
// the dialect cannot express (an algorithm its kernel lacks, esp-old on
// Linux, a reqid too wide for FreeBSD's requests) are errors that name the
// place in the script.
func Build(sc *Script, d *pfkey.Dialect) ([]Op, error) {
	var ops []Op
	for _, st := range sc.Stmts {
		o, err := BuildStmt(st, d)
		if err != nil {
			return nil, err
		}
		ops = append(ops, o...)
	}
	return ops, nil
}

// BuildStmt maps one statement (see Build).
func BuildStmt(st Stmt, d *pfkey.Dialect) ([]Op, error) {
	switch s := st.(type) {
	case *SAStmt:
		return buildSA(s, d)
	case *FlushStmt:
		m := &pfkey.Message{SAType: saType(s.Type)}
		dump := false
		switch s.Cmd {
		case CmdFlush:
			m.Type = pfkey.MsgFlush
		case CmdDump:
			m.Type, dump = pfkey.MsgDump, true
		case CmdSPDFlush:
			m.Type = pfkey.MsgXSPDFlush
		case CmdSPDDump:
			m.Type, dump = pfkey.MsgXSPDDump, true
		}
		if s.Type == SATypeTCP && d.Name != pfkey.FreeBSD.Name {
			return nil, errorf(s.At, "%s tcp: TCP-MD5 SAs are not supported by %s's PF_KEY", s.Cmd, d.Name)
		}
		return []Op{{Stmt: st, Msg: m, Dump: dump}}, nil
	case *SPDStmt:
		m, err := buildSPD(s, d)
		if err != nil {
			return nil, err
		}
		return []Op{{Stmt: st, Msg: m}}, nil
	case *ExitStmt:
		return nil, nil
	}
	return nil, fmt.Errorf("setkey: unknown statement %T", st)
}

func saType(t SAType) pfkey.SAType {
	switch t {
	case SATypeESP:
		return pfkey.SATypeESP
	case SATypeAH:
		return pfkey.SATypeAH
	case SATypeIPComp:
		return pfkey.SATypeIPComp
	case SATypeTCP:
		return pfkey.SATypeTCPSignature
	}
	return pfkey.SATypeUnspec
}

// sockaddrAddr makes an address usable in a sockaddr: IPv6 zones become
// numeric scope ids.
func sockaddrAddr(a netip.Addr, at Pos) (netip.Addr, error) {
	z := a.Zone()
	if z == "" {
		return a, nil
	}
	idx, err := zoneIndex(z)
	if err != nil {
		return a, errorf(at, "address %s: %v", a, err)
	}
	return a.WithZone(strconv.FormatUint(uint64(idx), 10)), nil
}

func hostAddr(e Endpoint, at Pos) (*pfkey.Address, error) {
	a, err := sockaddrAddr(e.Addr, at)
	if err != nil {
		return nil, err
	}
	return &pfkey.Address{Proto: pfkey.ProtoAny, PrefixLen: uint8(a.BitLen()), Addr: netip.AddrPortFrom(a, e.Port)}, nil
}

func buildSA(s *SAStmt, d *pfkey.Dialect) ([]Op, error) {
	linux := d.Name == pfkey.Linux.Name
	if s.Type == SATypeTCP && linux {
		return nil, errorf(s.At, "tcp: TCP-MD5 SAs are not supported by %s's PF_KEY", d.Name)
	}
	if s.Old && linux {
		return nil, errorf(s.At, "%s-old (RFC 1827/1829 transforms) is not supported by %s's PF_KEY", s.Type, d.Name)
	}
	if s.Ctx != nil && !linux {
		return nil, errorf(s.At, "-ctx: security contexts are not supported by %s's PF_KEY", d.Name)
	}
	var typ pfkey.MsgType
	switch s.Cmd {
	case CmdAdd:
		typ = pfkey.MsgAdd
	case CmdGet:
		typ = pfkey.MsgGet
	case CmdDelete, CmdDeleteAll:
		typ = pfkey.MsgDelete
	}
	base := pfkey.Message{Type: typ, SAType: saType(s.Type)}
	if s.Cmd != CmdDeleteAll {
		flags := pfkey.SAFlagXCycSeq
		if s.NoCyclic {
			flags = 0
		}
		if s.Old {
			flags |= pfkey.SAFlagXOld
		}
		if s.Deriv {
			flags |= pfkey.SAFlagXDeriv
		}
		if s.IV4B {
			flags |= pfkey.SAFlagXIV4B
		}
		switch s.Pad {
		case PadRandom:
			flags |= pfkey.SAFlagXPRand
		case PadZero:
			flags |= pfkey.SAFlagXPZero
		}
		if s.RawCPI {
			flags |= pfkey.SAFlagXRawCPI
		}
		// Linux ignores the padding and sequence hints (-f, -R) as it does
		// for ipsec-tools' setkey, but the old and derived-IV transforms
		// would silently become different ones.
		if (s.Deriv || s.IV4B) && linux {
			return nil, errorf(s.At, "%s: des-deriv and des-32iv are not supported by %s's PF_KEY", s.Cmd, d.Name)
		}
		base.SA = &pfkey.SA{SPI: s.SPI, Replay: s.Replay, Flags: flags}
		base.SA2 = &pfkey.SA2{Mode: s.Mode, ReqID: s.ReqID}
	}
	if s.Cmd == CmdAdd {
		if err := setAlgs(&base, s, d); err != nil {
			return nil, err
		}
		if s.HardSeconds != 0 || s.HardBytes != 0 {
			base.LifetimeHard = &pfkey.Lifetime{AddTime: s.HardSeconds, Bytes: s.HardBytes}
		}
		if s.SoftSeconds != 0 || s.SoftBytes != 0 {
			base.LifetimeSoft = &pfkey.Lifetime{AddTime: s.SoftSeconds, Bytes: s.SoftBytes}
		}
		if s.Ctx != nil {
			base.SecCtx = &pfkey.SecCtx{DOI: s.Ctx.DOI, Alg: s.Ctx.Alg, Context: []byte(s.Ctx.Ctx)}
		}
		if s.NATT {
			base.NATTType = &pfkey.NATTType{Type: 2} // UDP_ENCAP_ESPINUDP
			if s.NATTOA.IsValid() {
				oa, err := sockaddrAddr(s.NATTOA, s.At)
				if err != nil {
					return nil, err
				}
				base.NATTOAI = pfkey.HostAddress(oa)
			}
		}
	}
	var ops []Op
	for _, se := range s.Src {
		for _, de := range s.Dst {
			if se.Addr.Is4() != de.Addr.Is4() {
				continue
			}
			m := base // shallow copy: extensions are shared and read-only
			var err error
			if m.Src, err = hostAddr(se, s.At); err != nil {
				return nil, err
			}
			if m.Dst, err = hostAddr(de, s.At); err != nil {
				return nil, err
			}
			if s.NATT && s.Cmd == CmdAdd {
				m.NATTSport = &pfkey.NATTPort{Port: nattPort(se.Port)}
				m.NATTDport = &pfkey.NATTPort{Port: nattPort(de.Port)}
				// The ports are NAT-T ports, not part of the SA's addresses.
				m.Src.Addr = netip.AddrPortFrom(m.Src.Addr.Addr(), 0)
				m.Dst.Addr = netip.AddrPortFrom(m.Dst.Addr.Addr(), 0)
			}
			op := Op{Stmt: s, Msg: &m}
			if s.Cmd == CmdDeleteAll && linux {
				op = Op{Stmt: s, Msg: &pfkey.Message{Type: pfkey.MsgDump, SAType: base.SAType}, Dump: true,
					DeleteAll: true, Match: [2]netip.Addr{se.Addr.WithZone(""), de.Addr.WithZone("")}}
			}
			if _, err := d.Marshal(op.Msg); err != nil {
				return nil, errorf(s.At, "%s: %v", s.Cmd, err)
			}
			ops = append(ops, op)
		}
	}
	if len(ops) == 0 {
		return nil, errorf(s.At, "source and destination addresses are of different families")
	}
	return ops, nil
}

func nattPort(p uint16) uint16 {
	if p == 0 {
		return 4500
	}
	return p
}

// linuxAEAD are the combined-mode algorithms of pfkey's Linux table.
var linuxAEAD = map[string]bool{
	"aes-gcm-8": true, "aes-gcm-12": true, "aes-gcm-16": true,
	"aes-ccm-8": true, "aes-ccm-12": true, "aes-ccm-16": true, "null-aes-gmac": true,
}

// dialectAlgName maps setkey's names onto the names of package pfkey.
func dialectAlgName(name string) string {
	switch name {
	case "des-deriv", "des-32iv":
		return "des-cbc"
	case "simple":
		return "null"
	}
	return name
}

func setAlgs(m *pfkey.Message, s *SAStmt, d *pfkey.Dialect) error {
	if a := s.Enc; a != nil {
		info, ok := d.LookupEnc(dialectAlgName(a.Name))
		if !ok {
			return errorf(a.At, "encryption algorithm %s is not supported by %s's PF_KEY", a.Name, d.Name)
		}
		if d.Name == pfkey.Linux.Name && linuxAEAD[info.Name] {
			// af_key looks encryption algorithms up in the kernel's ealg
			// list only; AEADs exist only in XFRM netlink (ENOSYS).
			return errorf(a.At, "encryption algorithm %s is an AEAD, which linux's PF_KEY cannot install (use ip xfrm)", a.Name)
		}
		m.SA.Enc = pfkey.EncAlg(info.ID)
		// A key extension even for null (0 bits), as setkey sends it: Linux
		// refuses an ESP SA without one (EINVAL).
		m.EncKey = pfkey.NewKey(a.Key)
	}
	if a := s.Auth; a != nil {
		info, ok := d.LookupAuth(a.Name)
		if !ok {
			return errorf(a.At, "authentication algorithm %s is not supported by %s's PF_KEY", a.Name, d.Name)
		}
		m.SA.Auth = pfkey.AuthAlg(info.ID)
		if a.Key != nil {
			m.AuthKey = pfkey.NewKey(a.Key)
		}
	}
	if a := s.Comp; a != nil {
		info, ok := d.LookupComp(a.Name)
		if !ok {
			return errorf(a.At, "compression algorithm %s is not supported by %s's PF_KEY", a.Name, d.Name)
		}
		m.SA.Enc = pfkey.EncAlg(info.ID)
	}
	return nil
}

func buildSPD(s *SPDStmt, d *pfkey.Dialect) (*pfkey.Message, error) {
	m := &pfkey.Message{SAType: pfkey.SATypeUnspec}
	switch s.Cmd {
	case CmdSPDAdd:
		m.Type = pfkey.MsgXSPDAdd
	case CmdSPDUpdate:
		m.Type = pfkey.MsgXSPDUpdate
	case CmdSPDDelete:
		m.Type = pfkey.MsgXSPDDelete
	}
	if s.Tag != "" {
		return nil, errorf(s.At, "%s tagged: tagged policies are not supported by %s's PF_KEY", s.Cmd, d.Name)
	}
	linux := d.Name == pfkey.Linux.Name
	if s.Ctx != nil {
		if !linux {
			return nil, errorf(s.At, "-ctx: security contexts are not supported by %s's PF_KEY", d.Name)
		}
		m.SecCtx = &pfkey.SecCtx{DOI: s.Ctx.DOI, Alg: s.Ctx.Alg, Context: []byte(s.Ctx.Ctx)}
	}
	src, err := sockaddrAddr(s.Src.Addr, s.At)
	if err != nil {
		return nil, err
	}
	dst, err := sockaddrAddr(s.Dst.Addr, s.At)
	if err != nil {
		return nil, err
	}
	m.Src = &pfkey.Address{Proto: pfkey.Proto(s.Upper), PrefixLen: uint8(s.Src.Prefix), Addr: netip.AddrPortFrom(src, s.Src.Port)}
	m.Dst = &pfkey.Address{Proto: pfkey.Proto(s.Upper), PrefixLen: uint8(s.Dst.Prefix), Addr: netip.AddrPortFrom(dst, s.Dst.Port)}
	p := &s.Policy
	dir := p.Dir
	if p.Dir == DirForward && !linux {
		// FreeBSD has no forward policies: libipsec built without
		// HAVE_POLICY_FWD reads fwd as in.
		dir = pfkey.DirInbound
	}
	pol := &pfkey.Policy{Dir: dir}
	if p.HasAction {
		pol.Type = p.Action
		pol.Priority = p.Priority
	}
	for _, r := range p.Requests {
		if !linux && r.ReqID > 0xffff {
			return nil, errorf(r.At, "reqid %d of unique:%d does not fit %s's 16-bit reqid", r.ReqID, r.ReqID, d.Name)
		}
		req := pfkey.IPSecRequest{Proto: pfkey.Proto(r.Proto), Mode: r.Mode, Level: r.Level, ReqID: r.ReqID}
		if r.Src.IsValid() {
			sa, err := sockaddrAddr(r.Src.Addr(), r.At)
			if err != nil {
				return nil, err
			}
			da, err := sockaddrAddr(r.Dst.Addr(), r.At)
			if err != nil {
				return nil, err
			}
			req.Src = netip.AddrPortFrom(sa, r.Src.Port())
			req.Dst = netip.AddrPortFrom(da, r.Dst.Port())
		}
		pol.Requests = append(pol.Requests, req)
	}
	m.Policy = pol
	if _, err := d.Marshal(m); err != nil {
		return nil, errorf(s.At, "%s: %v", s.Cmd, err)
	}
	return m, nil
}
