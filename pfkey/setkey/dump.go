package setkey

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ikectx/ikectx/pfkey"
)

// Formatter prints SAD and SPD entries in the format of ipsec-tools'
// setkey -D and -DP (libipsec's pfkey_sadump and pfkey_spdump).
type Formatter struct {
	Dialect *pfkey.Dialect
	// Now gives the "current:" time of SA dumps; nil is time.Now.
	Now func() time.Time
	// Loc is the time zone of dates; nil is time.Local.
	Loc *time.Location
}

// ctime formats a Unix time as setkey does (ctime(3) without the weekday,
// 20 characters); 0 prints as 20 blanks.
func (f *Formatter) ctime(sec uint64) string {
	if sec == 0 {
		return strings.Repeat(" ", 20)
	}
	loc := f.Loc
	if loc == nil {
		loc = time.Local
	}
	return time.Unix(int64(sec), 0).In(loc).Format("Jan _2 15:04:05 2006")
}

func hexdump(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i != 0 && i%32 == 0 {
			s.WriteByte('\n')
		}
		if i%4 == 0 {
			s.WriteByte(' ')
		}
		fmt.Fprintf(&s, "%02x", c)
	}
	return s.String()
}

// dumpEncName and dumpAuthName give the names setkey -D prints (libipsec's
// tables), which differ from the input names for a few algorithms.
func dumpEncName(d *pfkey.Dialect, e pfkey.EncAlg) string {
	if n := d.EncName(e); n != "rijndael-cbc" {
		return n
	}
	return "aes-cbc"
}

func dumpAuthName(d *pfkey.Dialect, a pfkey.AuthAlg) string {
	switch n := d.AuthName(a); n {
	case "keyed-md5":
		return "md5"
	case "keyed-sha1":
		return "sha"
	default:
		return n
	}
}

func keyBytes(k *pfkey.Key) []byte {
	n := int(k.Bits) / 8
	if n > len(k.Data) {
		n = len(k.Data)
	}
	return k.Data[:n]
}

func orNum(name string, n uint8) string {
	if name == "" {
		return fmt.Sprint(n)
	}
	return name
}

// FormatSA writes one SA (a DUMP or GET reply) as setkey -D does.
func (f *Formatter) FormatSA(w io.Writer, m *pfkey.Message) error {
	var b strings.Builder
	d := f.Dialect
	if m.Src == nil {
		b.WriteString("no ADDRESS_SRC extension.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	natt := m.NATTType != nil && m.NATTType.Type != 0
	b.WriteString(m.Src.Addr.Addr().String())
	if natt && m.NATTSport != nil {
		fmt.Fprintf(&b, "[%d]", m.NATTSport.Port)
	}
	b.WriteByte(' ')
	if m.Dst == nil {
		b.WriteString(" no ADDRESS_DST extension.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString(m.Dst.Addr.Addr().String())
	if natt && m.NATTDport != nil {
		fmt.Fprintf(&b, "[%d]", m.NATTDport.Port)
	}
	b.WriteByte(' ')
	if m.SA == nil {
		b.WriteString("no SA extension.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	sa2 := m.SA2
	if sa2 == nil {
		sa2 = &pfkey.SA2{}
	}
	b.WriteString("\n\t")
	switch {
	case natt && m.SAType == pfkey.SATypeESP:
		b.WriteString("esp-udp ")
	case natt:
		b.WriteString("natt+" + m.SAType.String() + " ")
	default:
		b.WriteString(m.SAType.String() + " ")
	}
	fmt.Fprintf(&b, "mode=%s spi=%d(0x%08x) reqid=%d(0x%08x)\n", sa2.Mode, m.SA.SPI, m.SA.SPI, sa2.ReqID, sa2.ReqID)
	if natt && m.NATTOAI != nil {
		fmt.Fprintf(&b, "\tNAT OA=%s\n", m.NATTOAI.Addr.Addr())
	}
	switch m.SAType {
	case pfkey.SATypeIPComp:
		fmt.Fprintf(&b, "\tC: %s\n", orNum(d.CompName(pfkey.CompAlg(m.SA.Enc)), uint8(m.SA.Enc)))
	case pfkey.SATypeESP:
		if m.EncKey != nil {
			fmt.Fprintf(&b, "\tE: %s %s\n", orNum(dumpEncName(d, m.SA.Enc), uint8(m.SA.Enc)), hexdump(keyBytes(m.EncKey)))
		}
	}
	if m.AuthKey != nil {
		fmt.Fprintf(&b, "\tA: %s %s\n", orNum(dumpAuthName(d, m.SA.Auth), uint8(m.SA.Auth)), hexdump(keyBytes(m.AuthKey)))
	}
	fmt.Fprintf(&b, "\tseq=0x%08x replay=%d flags=0x%08x state=%s \n", sa2.Sequence, m.SA.Replay, uint32(m.SA.Flags), m.SA.State)
	if c := m.LifetimeCurrent; c != nil {
		now := time.Now()
		if f.Now != nil {
			now = f.Now()
		}
		hard, soft := m.LifetimeHard, m.LifetimeSoft
		if hard == nil {
			hard = &pfkey.Lifetime{}
		}
		if soft == nil {
			soft = &pfkey.Lifetime{}
		}
		diff := uint64(0)
		if c.AddTime != 0 && now.Unix() > int64(c.AddTime) {
			diff = uint64(now.Unix()) - c.AddTime
		}
		fmt.Fprintf(&b, "\tcreated: %s\tcurrent: %s\n", f.ctime(c.AddTime), f.ctime(uint64(now.Unix())))
		fmt.Fprintf(&b, "\tdiff: %d(s)\thard: %d(s)\tsoft: %d(s)\n", diff, hard.AddTime, soft.AddTime)
		fmt.Fprintf(&b, "\tlast: %s\thard: %d(s)\tsoft: %d(s)\n", f.ctime(c.UseTime), hard.UseTime, soft.UseTime)
		fmt.Fprintf(&b, "\tcurrent: %d(bytes)\thard: %d(bytes)\tsoft: %d(bytes)\n", c.Bytes, hard.Bytes, soft.Bytes)
		fmt.Fprintf(&b, "\tallocated: %d\thard: %d\tsoft: %d\n", c.Allocations, hard.Allocations, soft.Allocations)
	}
	if m.SecCtx != nil {
		fmt.Fprintf(&b, "\tsecurity context doi: %d\n\tsecurity context algorithm: %d\n\tsecurity context length: %d\n\tsecurity context: %s\n",
			m.SecCtx.DOI, m.SecCtx.Alg, len(m.SecCtx.Context), strings.TrimRight(string(m.SecCtx.Context), "\x00"))
	}
	fmt.Fprintf(&b, "\tsadb_seq=%d pid=%d refcnt=%d\n", m.Seq, m.PID, m.Reserved)
	_, err := io.WriteString(w, b.String())
	return err
}

// prefPort is "/prefix[port]" of a policy selector.
func prefPort(a *pfkey.Address, proto pfkey.Proto) string {
	var s string
	if int(a.PrefixLen) != a.Addr.Addr().BitLen() {
		s = fmt.Sprintf("/%d", a.PrefixLen)
	}
	switch proto {
	case pfkey.ProtoICMP, pfkey.ProtoICMPv6, pfkey.ProtoMH, 47: // 47: GRE
		return s
	}
	if a.Addr.Port() == 0 {
		return s + "[any]"
	}
	return s + fmt.Sprintf("[%d]", a.Addr.Port())
}

// PolicyString formats an X_POLICY extension as libipsec's
// ipsec_dump_policy: "out prio def ipsec" and the requests, each after
// delim.
func (f *Formatter) PolicyString(p *pfkey.Policy, delim string) string {
	var b strings.Builder
	dir := p.Dir.String()
	if f.Dialect.Name == pfkey.Linux.Name {
		switch p.Dir {
		case 4:
			dir = "in(socket)"
		case 5:
			dir = "out(socket)"
		}
	}
	b.WriteString(dir)
	if f.Dialect.Name == pfkey.Linux.Name && p.Priority != 0 {
		var base uint32
		var name string
		switch {
		case p.Priority < PriorityDefault/4*3:
			base, name = PriorityHigh, "prio high"
		case p.Priority < PriorityDefault/4*5:
			base, name = PriorityDefault, "prio def"
		default:
			base, name = PriorityLow, "prio low"
		}
		off := int64(base) - int64(p.Priority) // the sign as it is written
		switch {
		case off > 0:
			fmt.Fprintf(&b, " %s + %d", name, off)
		case off < 0:
			fmt.Fprintf(&b, " %s - %d", name, -off)
		default:
			b.WriteString(" " + name)
		}
	}
	b.WriteString(" " + p.Type.String())
	if p.Type != pfkey.PolicyIPsec {
		return b.String()
	}
	for _, r := range p.Requests {
		b.WriteString(delim)
		b.WriteString(r.Proto.String() + "/" + r.Mode.String() + "/")
		if r.Src.IsValid() {
			b.WriteString(r.Src.Addr().String() + "-" + r.Dst.Addr().String())
		}
		b.WriteString("/" + r.Level.String())
		if r.ReqID != 0 {
			sep := ":"
			if r.ReqID > pfkey.ReqIDManualMax {
				sep = "#"
			}
			fmt.Fprintf(&b, "%s%d", sep, r.ReqID)
		}
	}
	return b.String()
}

// FormatPolicy writes one policy (an SPDDUMP or SPDGET reply) as
// setkey -DP does.
func (f *Formatter) FormatPolicy(w io.Writer, m *pfkey.Message) error {
	var b strings.Builder
	p := m.Policy
	switch {
	case p != nil && f.Dialect.Name == pfkey.Linux.Name && p.ID%8 >= 3:
		b.WriteString("(per-socket policy) ")
	case m.Src != nil && m.Dst != nil:
		proto := m.Src.Proto
		fmt.Fprintf(&b, "%s%s ", m.Src.Addr.Addr(), prefPort(m.Src, proto))
		fmt.Fprintf(&b, "%s%s ", m.Dst.Addr.Addr(), prefPort(m.Dst, proto))
		if m.Src.Proto != m.Dst.Proto {
			b.WriteString("upper layer protocol mismatched.\n")
			_, err := io.WriteString(w, b.String())
			return err
		}
		b.WriteString(ProtoName(uint8(proto)))
		sp, dp := m.Src.Addr.Port(), m.Dst.Addr.Port()
		if sp != 0 || dp != 0 {
			switch proto {
			case pfkey.ProtoICMP, pfkey.ProtoICMPv6, pfkey.ProtoMH:
				fmt.Fprintf(&b, " %d,%d", sp, dp)
			case 47:
				fmt.Fprintf(&b, " %d", uint32(sp)<<16|uint32(dp))
			}
		}
	default:
		b.WriteString("(no selector, probably per-socket policy) ")
	}
	if p == nil {
		b.WriteString("no X_POLICY extension.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("\n\t" + f.PolicyString(p, "\n\t") + "\n")
	if c := m.LifetimeCurrent; c != nil {
		fmt.Fprintf(&b, "\tcreated: %s  lastused: %s\n", f.ctime(c.AddTime), f.ctime(c.UseTime))
	}
	if h := m.LifetimeHard; h != nil {
		fmt.Fprintf(&b, "\tlifetime:%d(s) validtime:%d(s)\n", h.AddTime, h.UseTime)
	}
	if m.SecCtx != nil {
		fmt.Fprintf(&b, "\tsecurity context doi: %d\n\tsecurity context algorithm: %d\n\tsecurity context length: %d\n\tsecurity context: %s\n",
			m.SecCtx.DOI, m.SecCtx.Alg, len(m.SecCtx.Context), strings.TrimRight(string(m.SecCtx.Context), "\x00"))
	}
	fmt.Fprintf(&b, "\tspid=%d seq=%d pid=%d\n", p.ID, m.Seq, m.PID)
	fmt.Fprintf(&b, "\trefcnt=%d\n", m.Reserved)
	_, err := io.WriteString(w, b.String())
	return err
}
