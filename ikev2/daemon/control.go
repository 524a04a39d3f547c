package daemon

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ikectx/ikectx/ikev2"
	"github.com/ikectx/ikectx/ikev2/msg"
)

// The control protocol: the client writes one command line, the daemon
// answers with text and closes; a failed command's answer starts with
// "error: ". Commands:
//
//	status                       IKE and child SAs, collision counters
//	events                       the last events
//	initiate NAME                start a connection and wait for it
//	rekey-child SPI              rekey the child with inbound SPI (hex)
//	rekey-ike SPI                rekey the IKE SA with local SPI (hex)
//	create-child SPI             an additional child on an IKE SA
//	liveness SPI                 empty INFORMATIONAL
//	delete SPI                   delete an IKE SA
//	move SPI LOCAL REMOTE        MOBIKE UPDATE_SA_ADDRESSES ("-" keeps one)
//	update-spi SPI esp|ike OLD NEW  change one of this end's SPIs (UPDATE_SPI)
//	export SPI                   the IKE SA with keys, one JSON line (context transfer)
//	export-peer ADDR             every established IKE SA with the peer at ADDR, with keys,
//	                             one JSON line each (what ipsec-cxtpd's capture asks)
//	import LOCAL REMOTE JSON     install an exported SA at new addresses
//	repair SPI LOCAL REMOTE MAX TIMER [ESP-SPI...]  Algorithm 1 (UPDATE_SA_ADDRESSES + UPDATE_SPI)
//
// SPIs are the hexadecimal numbers status shows.

func listenControl(path string) (net.Listener, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("iked: %s: another iked is running", path)
		}
		os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("iked: control socket: %w", err)
	}
	os.Chmod(path, 0o600)
	return ln, nil
}

func (d *Daemon) serveControl(ctx context.Context, ln net.Listener) {
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(60 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil && line == "" {
				return
			}
			out, err := d.Command(strings.Fields(line))
			if err != nil {
				out += "error: " + err.Error() + "\n"
			}
			io.WriteString(c, out)
		}()
	}
}

func optAddrPort(s string) (netip.AddrPort, error) {
	if s == "-" {
		return netip.AddrPort{}, nil
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	return netip.AddrPort{}, fmt.Errorf("bad address:port %q", s)
}

func parseSPI(s string) (uint64, error) {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		return 0, fmt.Errorf("bad SPI %q", s)
	}
	return v, nil
}

func wait(f func(done func(error)) error) error {
	ch := make(chan error, 1)
	if err := f(func(err error) { ch <- err }); err != nil {
		return err
	}
	select {
	case err := <-ch:
		return err
	case <-time.After(45 * time.Second):
		return errors.New("timed out")
	}
}

// Command runs one control command.
func (d *Daemon) Command(args []string) (string, error) {
	if len(args) == 0 {
		return "", errors.New("empty command")
	}
	need := func(n int) error {
		if len(args) != n+1 {
			return fmt.Errorf("%s takes %d argument(s)", args[0], n)
		}
		return nil
	}
	m := d.Manager
	switch args[0] {
	case "status":
		return FormatStatus(m.SAs()) + FormatStats(m.Stats()), nil
	case "events":
		d.mu.Lock()
		defer d.mu.Unlock()
		return strings.Join(d.events, "\n") + "\n", nil
	case "initiate":
		if err := need(1); err != nil {
			return "", err
		}
		return "", wait(func(done func(error)) error { return d.Initiate(args[1], done) })
	case "rekey-child", "rekey-ike", "create-child", "liveness", "delete":
		if err := need(1); err != nil {
			return "", err
		}
		spi, err := parseSPI(args[1])
		if err != nil {
			return "", err
		}
		switch args[0] {
		case "rekey-child":
			return "", wait(func(done func(error)) error { return m.RekeyChild(uint32(spi), done) })
		case "rekey-ike":
			return "", wait(func(done func(error)) error { return m.RekeyIKE(spi, done) })
		case "create-child":
			return "", wait(func(done func(error)) error { return m.CreateChild(spi, done) })
		case "liveness":
			return "", wait(func(done func(error)) error { return m.Liveness(spi, done) })
		default:
			return "", m.Delete(spi)
		}
	case "update-spi":
		// update-spi KEY esp|ike OLD NEW: change one of this end's SPIs
		// with the paper's UPDATE_SPI (no address change).
		if err := need(4); err != nil {
			return "", err
		}
		spi, err := parseSPI(args[1])
		if err != nil {
			return "", err
		}
		old, err1 := parseSPI(args[3])
		nw, err2 := parseSPI(args[4])
		if err1 != nil || err2 != nil {
			return "", errors.New("bad SPI")
		}
		var st *ikev2.SAState
		for _, s := range m.SAs() {
			if s.SPIi == spi || s.SPIr == spi {
				s := s
				st = &s
			}
		}
		if st == nil {
			return "", fmt.Errorf("no IKE SA %016x", spi)
		}
		u := msg.UpdateSPI{Responder: !st.Initiator}
		switch args[2] {
		case "esp":
			u.Protocol, u.SPI, u.NewSPI = msg.ProtoESP, binary.BigEndian.AppendUint32(nil, uint32(old)), binary.BigEndian.AppendUint32(nil, uint32(nw))
		case "ike":
			u.Protocol, u.SPI, u.NewSPI = msg.ProtoIKE, binary.BigEndian.AppendUint64(nil, old), binary.BigEndian.AppendUint64(nil, nw)
		default:
			return "", fmt.Errorf("protocol %q is neither esp nor ike", args[2])
		}
		return "", wait(func(done func(error)) error {
			return m.Move(spi, netip.AddrPort{}, netip.AddrPort{}, []msg.UpdateSPI{u}, done)
		})
	case "export":
		// export KEY: the IKE SA with its keys, as one JSON line.
		if err := need(1); err != nil {
			return "", err
		}
		spi, err := parseSPI(args[1])
		if err != nil {
			return "", err
		}
		st, err := m.Export(spi)
		if err != nil {
			return "", err
		}
		defer st.Wipe()
		b, err := json.Marshal(st)
		if err != nil {
			return "", err
		}
		return string(b) + "\n", nil
	case "export-peer":
		// export-peer ADDR: the IKE SAs whose peer is ADDR, with keys, one
		// JSON line each; "error: ... not found" when there is none.
		if err := need(1); err != nil {
			return "", err
		}
		a, err := netip.ParseAddr(args[1])
		if err != nil {
			return "", fmt.Errorf("bad address %q", args[1])
		}
		var b strings.Builder
		for _, s := range m.SAs() {
			if s.State != "ESTABLISHED" || s.Remote.Addr().WithZone("") != a.WithZone("") {
				continue
			}
			key := s.SPIr
			if s.Initiator {
				key = s.SPIi
			}
			st, err := m.Export(key)
			if err != nil {
				continue // gone in between
			}
			j, err := json.Marshal(st)
			st.Wipe()
			if err != nil {
				return "", err
			}
			b.Write(j)
			b.WriteByte('\n')
			clear(j)
		}
		if b.Len() == 0 {
			return "", fmt.Errorf("no IKE SA with peer %v: not found", a)
		}
		return b.String(), nil
	case "import":
		// import LOCAL REMOTE JSON: an exported SA, at new addresses ("-"
		// keeps one); prints the SA's key and "collision" if its IKE SPI
		// is taken here.
		if len(args) < 4 {
			return "", errors.New("import takes LOCAL REMOTE JSON")
		}
		var st ikev2.SAState
		if err := json.Unmarshal([]byte(strings.Join(args[3:], " ")), &st); err != nil {
			return "", fmt.Errorf("import: %w", err)
		}
		defer st.Wipe()
		l, err1 := optAddrPort(args[1])
		r, err2 := optAddrPort(args[2])
		if err1 != nil || err2 != nil {
			return "", errors.Join(err1, err2)
		}
		key, err := m.Import(st, l, r)
		if errors.Is(err, ikev2.ErrSPICollision) {
			return fmt.Sprintf("%016x collision\n", key), nil
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%016x\n", key), nil
	case "repair":
		// repair KEY LOCAL REMOTE MAX_ROUND_TRIPS TIMER [SPI...]: the
		// paper's Algorithm 1; SPIs are this end's colliding inbound ESP
		// SPIs (the IKE SPI is checked here).
		if len(args) < 6 {
			return "", errors.New("repair takes KEY LOCAL REMOTE MAX_ROUND_TRIPS TIMER [SPI...]")
		}
		spi, err := parseSPI(args[1])
		if err != nil {
			return "", err
		}
		l, err1 := optAddrPort(args[2])
		r, err2 := optAddrPort(args[3])
		if err1 != nil || err2 != nil {
			return "", errors.Join(err1, err2)
		}
		maxRT, err := strconv.Atoi(args[4])
		if err != nil {
			return "", fmt.Errorf("bad MAX_ROUND_TRIPS %q", args[4])
		}
		timer, err := time.ParseDuration(args[5])
		if err != nil {
			return "", fmt.Errorf("bad TIMER %q", args[5])
		}
		var bad []uint32
		for _, s := range args[6:] {
			v, err := parseSPI(s)
			if err != nil {
				return "", err
			}
			bad = append(bad, uint32(v))
		}
		opt := ikev2.RepairOptions{Local: l, Remote: r, MaxRoundTrips: maxRT, Timer: timer,
			Collisions: func(st ikev2.SAState) ([]uint32, bool) {
				var out []uint32
				for _, c := range st.Children {
					for _, b := range bad {
						if c.SPIIn == b {
							out = append(out, b)
						}
					}
				}
				return out, false
			}}
		ch := make(chan ikev2.RepairResult, 1)
		if err := m.RepairSPIs(spi, opt, func(r ikev2.RepairResult) { ch <- r }); err != nil {
			return "", err
		}
		select {
		case res := <-ch:
			out := fmt.Sprintf("round-trips %d updated %d fallback %v\n", res.RoundTrips, res.Updated, res.Fallback)
			return out, res.Err
		case <-time.After(timer + 30*time.Second):
			return "", errors.New("timed out")
		}
	case "move":
		if err := need(3); err != nil {
			return "", err
		}
		spi, err := parseSPI(args[1])
		if err != nil {
			return "", err
		}
		var ap [2]netip.AddrPort
		for i, s := range args[2:4] {
			if s == "-" {
				continue
			}
			if ap[i], err = netip.ParseAddrPort(s); err != nil {
				a, aerr := netip.ParseAddr(s)
				if aerr != nil {
					return "", fmt.Errorf("bad address %q", s)
				}
				ap[i] = netip.AddrPortFrom(a, 0)
			}
		}
		// Ports 0: keep the SA's ports.
		for _, st := range m.SAs() {
			if st.SPIi == spi || st.SPIr == spi {
				if ap[0].IsValid() && ap[0].Port() == 0 {
					ap[0] = netip.AddrPortFrom(ap[0].Addr(), st.Local.Port())
				}
				if ap[1].IsValid() && ap[1].Port() == 0 {
					ap[1] = netip.AddrPortFrom(ap[1].Addr(), st.Remote.Port())
				}
			}
		}
		return "", wait(func(done func(error)) error { return m.Move(spi, ap[0], ap[1], nil, done) })
	}
	return "", fmt.Errorf("unknown command %q", args[0])
}

func tsString(ss []msg.Selector) string {
	var p []string
	for _, s := range ss {
		p = append(p, selPrefixAny(s))
	}
	return strings.Join(p, " ")
}

func selPrefixAny(s msg.Selector) string {
	bits := s.Start.BitLen()
	for b := 0; b <= bits; b++ {
		pf := netip.PrefixFrom(s.Start, b).Masked()
		if pf.Addr() == s.Start && msg.SelectorFromPrefix(pf).End == s.End {
			return pf.String()
		}
	}
	return s.Start.String() + ".." + s.End.String()
}

// FormatStatus renders SAs as the status command shows them.
func FormatStatus(sas []ikev2.SAState) string {
	var b strings.Builder
	if len(sas) == 0 {
		b.WriteString("no IKE SAs\n")
	}
	for _, s := range sas {
		role := "responder"
		if s.Initiator {
			role = "initiator"
		}
		fmt.Fprintf(&b, "%s: %s %s spi %016x_i %016x_r\n", s.Name, s.State, role, s.SPIi, s.SPIr)
		fmt.Fprintf(&b, "  local  %v %v\n  remote %v %v\n", s.Local, s.LocalID, s.Remote, s.PeerID)
		flags := ""
		if s.MOBIKE {
			flags += " mobike"
		}
		if s.NATLocal {
			flags += " nat-local"
		}
		if s.NATRemote {
			flags += " nat-remote"
		}
		fmt.Fprintf(&b, "  %s%s msgid next-send %d next-recv %d\n", s.Proposal, flags, s.NextSendID, s.NextRecvID)
		for _, c := range s.Children {
			mode := "tunnel"
			if c.Transport {
				mode = "transport"
			}
			fmt.Fprintf(&b, "  %s: ESP %s in 0x%08x out 0x%08x %s\n", c.Name, mode, c.SPIIn, c.SPIOut, c.Proposal)
			fmt.Fprintf(&b, "    %s === %s\n", tsString(c.LocalTS), tsString(c.RemoteTS))
		}
	}
	return b.String()
}

// FormatStats renders the exchange-collision counters (the last line of
// status).
func FormatStats(s ikev2.RekeyStats) string {
	return fmt.Sprintf("collisions resolved: %d (%v)\n", s.Total(), s)
}

// Control sends one command to a running iked and returns its answer.
func Control(socket string, args ...string) (string, error) {
	c, err := net.DialTimeout("unix", socket, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.WriteString(c, strings.Join(args, " ")+"\n"); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	out := string(b)
	if err != nil {
		return out, err
	}
	if i := strings.Index(out, "error: "); i >= 0 && (i == 0 || out[i-1] == '\n') {
		return out[:i], errors.New(strings.TrimSpace(out[i+len("error: "):]))
	}
	return out, nil
}
