package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ikectx/ikectx/cxtp"
	"github.com/ikectx/ikectx/cxtp/engine"
	"github.com/ikectx/ikectx/cxtp/transport"
	"github.com/ikectx/ikectx/shm"
)

// receiveErrorPause is the pause after a receive error other than close.
const receiveErrorPause = 10 * time.Millisecond

// NewLogger builds the daemon's logger from the [log] table. Keys never
// reach it: engines log fingerprints and lengths only.
func NewLogger(c *Config) (*slog.Logger, io.Closer, error) {
	var w io.Writer = os.Stderr
	var closer io.Closer = io.NopCloser(nil)
	if c.Log.File != "" {
		f, err := os.OpenFile(c.Log.File, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("log.file: %w", err)
		}
		w, closer = f, f
	}
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(c.Log.Level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lv})), closer, nil
}

// Run runs cxtpd with a checked config until ctx is done.
func Run(ctx context.Context, c *Config, log *slog.Logger) error {
	if c.Role == RoleMN {
		return runMN(ctx, c, log)
	}
	return runAR(ctx, c, log)
}

// arDaemon is the AR role: the engine between its transports, the context
// modules (shm) and the control socket.
type arDaemon struct {
	cfg     *Config
	log     *slog.Logger
	eng     *engine.AR
	access  transport.Conn // ICMPv6 to the MNs
	conns   map[Transport]transport.Conn
	peers   map[netip.Addr]PeerConfig
	brokers []*Broker
}

func (d *arDaemon) SendAR(peer netip.Addr, b []byte) error {
	p, ok := d.peers[peer]
	if !ok {
		return fmt.Errorf("no peer %s", peer)
	}
	c := d.conns[p.Transport]
	if c == nil {
		return fmt.Errorf("peer %s: no %s transport", peer, p.Transport)
	}
	return c.WriteTo(b, netip.AddrPortFrom(peer, uint16(p.Port)))
}

func (d *arDaemon) SendMN(to netip.Addr, b []byte) error {
	return d.access.WriteTo(b, netip.AddrPortFrom(to, 0))
}

func runAR(ctx context.Context, c *Config, log *slog.Logger) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d := &arDaemon{cfg: c, log: log, conns: map[Transport]transport.Conn{}, peers: map[netip.Addr]PeerConfig{}}
	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()

	reg := engine.NewRegistry()
	for _, m := range c.Modules {
		b, err := OpenBroker(ctx, m.SHM, &shm.Options{Slots: c.SHM.Slots}, log.With("module", m.Name))
		if err != nil {
			return fmt.Errorf("module %s: %w", m.Name, err)
		}
		closers = append(closers, func() { b.Close() })
		d.brokers = append(d.brokers, b)
		batch := &ModuleBatch{B: b, Name: m.Name}
		for _, f := range m.FPTs {
			h := &ModuleHandler{B: b, FPT: cxtp.FPT(f), Name: m.Name, AfterAck: slices.Contains(m.AfterAck, f), Batch: batch}
			if err := reg.Register(engine.Registration{FPT: cxtp.FPT(f), Handler: h, KeyMaterial: m.KeyMaterial}); err != nil {
				return err
			}
		}
	}

	check := CheckChannel
	if c.Security.SkipSPDCheck {
		check = nil
	}
	prot := newChannelProtection(c, check, log)
	go prot.refresh(ctx) // ends with ctx (cancelled when runAR returns)
	var peers []engine.Peer
	for _, p := range c.Peers {
		d.peers[p.Address] = p
		peers = append(peers, engine.Peer{Addr: p.Address, AccessAddrs: p.AccessAddresses})
		if d.conns[p.Transport] == nil {
			conn, err := listenAR(p.Transport, netip.AddrPortFrom(c.Address, uint16(c.Port)))
			if err != nil {
				return err
			}
			closers = append(closers, func() { conn.Close() })
			d.conns[p.Transport] = conn
		}
		if !p.Protected && !c.Security.AllowPlaintext {
			log.Warn("cxtp: channel to peer not marked protected: no key material will be sent to it", "peer", p.Address)
		}
	}
	keys := map[netip.Addr][]byte{}
	for _, m := range c.MNs {
		keys[m.Address] = m.Key
	}
	if _, err := net.InterfaceByName(c.Interface); err != nil {
		return fmt.Errorf("interface %q: %w", c.Interface, err)
	}
	accessAddr := c.AccessAddress
	if accessAddr.IsLinkLocalUnicast() {
		accessAddr = accessAddr.WithZone(c.Interface)
	}
	access, err := transport.ListenICMPv6(accessAddr)
	if err != nil {
		return err
	}
	closers = append(closers, func() { access.Close() })
	d.access = access

	d.eng, err = engine.NewAR(engine.ARConfig{
		Self: c.Address, Access: c.AccessAddress, Peers: peers, Keys: keys, Registry: reg, Net: d,
		Protection: prot, AllowPlaintext: c.Security.AllowPlaintext,
		Lifetime: c.Timers.ContextLifetime.D(), MaxTransferTime: c.Timers.MaxTransferTime.D(),
		RequestRetry: c.Timers.RequestRetry.D(), RetryMax: c.Timers.RetryMax.D(),
		RequestRate: c.Timers.RequestRate, SeqWindow: c.Timers.SeqWindow.D(),
		HandlerTimeout: c.Timers.ModuleTimeout.D(), AfterAckDelay: c.Timers.AfterAckDelay.D(), Log: log,
	})
	if err != nil {
		return err
	}
	closers = append(closers, d.eng.Close)

	ctl, err := listenControl(c.Control, d.command, log)
	if err != nil {
		return err
	}
	closers = append(closers, func() { ctl.Close() })

	var wg sync.WaitGroup
	readLoop := func(conn transport.Conn, handle func(netip.Addr, []byte)) {
		defer wg.Done()
		for {
			p, err := conn.ReadFrom(ctx)
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, transport.ErrClosed) {
					return
				}
				log.Warn("cxtp: receive", "transport", conn.Kind(), "err", err)
				time.Sleep(receiveErrorPause) // a persistent error must not spin
				continue
			}
			handle(p.From.Addr(), p.Data)
		}
	}
	wg.Add(1 + len(d.conns))
	go readLoop(access, d.eng.HandleMN)
	for _, conn := range d.conns {
		go readLoop(conn, d.eng.HandleAR)
	}
	log.Info("cxtpd: serving", "role", "ar", "address", c.Address, "access", c.AccessAddress,
		"peers", len(c.Peers), "modules", len(c.Modules), "fpts", reg.FPTs())
	<-ctx.Done()
	log.Info("cxtpd: stopping")
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
	closers = nil
	wg.Wait()
	return nil
}

func (d *arDaemon) command(ctx context.Context, args []string) (string, error) {
	addr := func(i int) (netip.Addr, error) {
		if len(args) <= i {
			return netip.Addr{}, fmt.Errorf("%s: missing address argument", args[0])
		}
		return netip.ParseAddr(args[i])
	}
	switch args[0] {
	case "status":
		return d.status(), nil
	case "trigger":
		mn, err := addr(1)
		if err != nil {
			return "", err
		}
		nar, err := addr(2)
		if err != nil {
			return "", err
		}
		failures, err := d.eng.Trigger(mn, nar)
		if err != nil {
			return "", err
		}
		return fmtFailures(failures), nil
	case "cancel":
		mn, err := addr(1)
		if err != nil {
			return "", err
		}
		return "", d.eng.Cancel(mn)
	case "state":
		mn, err := addr(1)
		if err != nil {
			return "", err
		}
		s := d.eng.State(mn)
		if s == "" {
			s = "none"
		}
		out := "nar-state " + s + "\n"
		if nar, done, st, ok := d.eng.Transfer(mn); ok {
			out += fmt.Sprintf("par-transfer nar=%s confirmed=%v\n%s", nar, done, fmtFailures(st))
		}
		return out, nil
	}
	return "", fmt.Errorf("unknown command %q (status, trigger, cancel, state)", args[0])
}

func (d *arDaemon) status() string {
	var b strings.Builder
	b.WriteString("role ar\n")
	b.WriteString(d.eng.Metrics().String())
	conns := []transport.Conn{d.access}
	kinds := make([]string, 0, len(d.conns))
	for k := range d.conns {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		conns = append(conns, d.conns[Transport(k)])
	}
	for _, c := range conns {
		s := c.Stats()
		fmt.Fprintf(&b, "transport %s sent %d received %d dropped-hoplimit %d dropped-malformed %d\n",
			c.Kind(), s.Sent, s.Received, s.DroppedHopLimit, s.DroppedMalformed)
	}
	for _, br := range d.brokers {
		fmt.Fprintf(&b, "shm %s module-pid %d late %d corrupt %d\n", br.seg.Name(), br.seg.PeerPID(), br.Late.Load(), br.Corrupt.Load())
	}
	return b.String()
}

func fmtFailures(st []cxtp.FPTStatus) string {
	var b strings.Builder
	for _, s := range st {
		fmt.Fprintf(&b, "failed fpt %d: %v\n", s.FPT, s.Status)
	}
	return b.String()
}

func listenAR(t Transport, at netip.AddrPort) (transport.Conn, error) {
	switch t {
	case TransportUDP:
		return transport.ListenUDP(at)
	case TransportSCTP:
		return listenSCTP(at)
	}
	return nil, fmt.Errorf("unknown transport %q", t)
}
