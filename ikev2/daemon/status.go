package daemon

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// StatusSA is one IKE SA of the status text (FormatStatus) read back:
// what a test or the testbed needs to follow SAs and SPIs without keys.
type StatusSA struct {
	Name          string
	State         string
	Initiator     bool
	SPIi, SPIr    uint64
	Local, Remote netip.AddrPort
	Children      []StatusChild
}

// StatusChild is a child SA of the status text.
type StatusChild struct {
	Name          string
	SPIIn, SPIOut uint32
}

// LocalSPI is this end's IKE SPI (iked's key of the SA).
func (s StatusSA) LocalSPI() uint64 {
	if s.Initiator {
		return s.SPIi
	}
	return s.SPIr
}

// ParseStatus reads the text of the status command (FormatStatus's SAs;
// the lines the daemon adds after them, such as the collision counters,
// are skipped). Errors name the line.
func ParseStatus(text string) ([]StatusSA, error) {
	var out []StatusSA
	trailer := false
	for n, line := range strings.Split(text, "\n") {
		bad := func(err error) error { return fmt.Errorf("iked status: line %d %q: %v", n+1, line, err) }
		t := strings.TrimSpace(line)
		switch {
		case t == "" || t == "no IKE SAs":
		case !strings.HasPrefix(line, " ") && !strings.Contains(line, " spi "):
			// a daemon-wide line after the SAs ("collisions resolved:
			// ..."): details after it belong to no SA
			trailer = true
		case !strings.HasPrefix(line, " "):
			// NAME: STATE ROLE spi SPIi_i SPIr_r
			trailer = false
			name, rest, ok := strings.Cut(line, ": ")
			f := strings.Fields(rest)
			if !ok || len(f) != 5 || f[2] != "spi" || !strings.HasSuffix(f[3], "_i") || !strings.HasSuffix(f[4], "_r") {
				return nil, bad(fmt.Errorf("not an IKE SA line"))
			}
			i, err1 := strconv.ParseUint(strings.TrimSuffix(f[3], "_i"), 16, 64)
			r, err2 := strconv.ParseUint(strings.TrimSuffix(f[4], "_r"), 16, 64)
			if err1 != nil || err2 != nil {
				return nil, bad(fmt.Errorf("bad SPI"))
			}
			out = append(out, StatusSA{Name: name, State: f[0], Initiator: f[1] == "initiator", SPIi: i, SPIr: r})
		case len(out) == 0 || trailer:
			return nil, bad(fmt.Errorf("detail outside an IKE SA"))
		case strings.HasPrefix(t, "local ") || strings.HasPrefix(t, "remote "):
			f := strings.Fields(t)
			if len(f) < 2 {
				return nil, bad(fmt.Errorf("no address"))
			}
			ap, err := netip.ParseAddrPort(f[1])
			if err != nil {
				return nil, bad(err)
			}
			if f[0] == "local" {
				out[len(out)-1].Local = ap
			} else {
				out[len(out)-1].Remote = ap
			}
		case strings.Contains(t, ": ESP "):
			// NAME: ESP MODE in 0xIN out 0xOUT PROPOSAL
			name, rest, _ := strings.Cut(t, ": ESP ")
			f := strings.Fields(rest)
			if len(f) < 5 || f[1] != "in" || f[3] != "out" {
				return nil, bad(fmt.Errorf("not a child SA line"))
			}
			in, err1 := strconv.ParseUint(strings.TrimPrefix(f[2], "0x"), 16, 32)
			o, err2 := strconv.ParseUint(strings.TrimPrefix(f[4], "0x"), 16, 32)
			if err1 != nil || err2 != nil {
				return nil, bad(fmt.Errorf("bad SPI"))
			}
			sa := &out[len(out)-1]
			sa.Children = append(sa.Children, StatusChild{Name: name, SPIIn: uint32(in), SPIOut: uint32(o)})
		}
	}
	return out, nil
}
