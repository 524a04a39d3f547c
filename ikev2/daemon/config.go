// Package daemon is iked: the IKEv2 daemon around ikev2.Manager. It reads
// a TOML configuration (PAD, connections with their SPD selectors and
// proposals), listens on UDP 500 and 4500, installs child SAs through
// PF_KEY or keeps them in memory (--no-kernel), and answers a status and
// control protocol on a unix socket.
package daemon

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/ikectx/ikectx/ikev2"
	"github.com/ikectx/ikectx/ikev2/msg"
)

// File is the TOML configuration as written.
type File struct {
	Global     Global     `toml:"global"`
	PAD        []PADFile  `toml:"pad"`
	Connection []ConnFile `toml:"connection"`
	meta       toml.MetaData
	src        []byte
}

// Global holds daemon-wide settings.
type Global struct {
	Listen          []string `toml:"listen"`    // addresses; default [::] and 0.0.0.0
	Port            int      `toml:"port"`      // 500
	NATTPort        int      `toml:"natt_port"` // 4500
	Socket          string   `toml:"socket"`    // /var/run/iked.sock
	UpdateSPIType   int      `toml:"update_spi_type"`
	RetransmitBase  string   `toml:"retransmit_base"`  // "1s"
	RetransmitTries int      `toml:"retransmit_tries"` // 5
	CookieThreshold int      `toml:"cookie_threshold"` // half-open SAs before COOKIEs; 0: never; default 100
}

// PADFile is one [[pad]] entry.
type PADFile struct {
	ID   string `toml:"id"`
	Auth string `toml:"auth"`
	PSK  string `toml:"psk"`
}

// ConnFile is one [[connection]].
type ConnFile struct {
	Name          string   `toml:"name"`
	LocalAddr     string   `toml:"local_addr"`
	RemoteAddr    string   `toml:"remote_addr"`
	RemotePort    int      `toml:"remote_port"`
	LocalID       string   `toml:"local_id"`
	RemoteID      string   `toml:"remote_id"`
	IKEProposals  []string `toml:"ike_proposals"`
	ESPProposals  []string `toml:"esp_proposals"`
	LocalTS       []string `toml:"local_ts"`
	RemoteTS      []string `toml:"remote_ts"`
	Mode          string   `toml:"mode"`
	IKELifetime   string   `toml:"ike_lifetime"`
	ChildLifetime string   `toml:"child_lifetime"`
	MOBIKE        *bool    `toml:"mobike"`
	UpdateSPI     *bool    `toml:"update_spi"`
	Start         bool     `toml:"start"`
}

// Config is the checked configuration.
type Config struct {
	Listen          []netip.Addr
	Port, NATTPort  uint16
	Socket          string
	RetransmitBase  time.Duration
	RetransmitTries int
	CookieThreshold int
	PAD             []ikev2.PADEntry
	Conns           []*ikev2.Config
	RemotePorts     map[string]uint16
	Start           []string
}

// ConfigError names the file, line and key of a configuration error.
type ConfigError struct {
	File string
	Line int
	Key  string
	Err  error
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("iked: %s:%d: %s: %v", e.File, e.Line, e.Key, e.Err)
	}
	return fmt.Sprintf("iked: %s: %s: %v", e.File, e.Key, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// DefaultCookieThreshold is the number of half-open IKE SAs from which
// iked answers IKE_SA_INIT with a COOKIE when the configuration says
// nothing.
const DefaultCookieThreshold = 100

// DefaultSocket is the control socket's default path.
const DefaultSocket = "/var/run/iked.sock"

// LoadConfig reads and checks a configuration file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, b)
}

// keyLine finds the line of key inside the index-th [[table]] (or [table]
// when index < 0); 0 when not found.
func keyLine(src []byte, table string, index int, key string) int {
	sc := bufio.NewScanner(bytes.NewReader(src))
	cur, n, line := "", -1, 0
	keyRe := regexp.MustCompile(`^\s*"?` + regexp.QuoteMeta(key) + `"?\s*=`)
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(t, "[[") {
			cur = strings.TrimSpace(strings.Trim(t, "[] "))
			if cur == table {
				n++
			}
			continue
		}
		if strings.HasPrefix(t, "[") {
			cur = strings.TrimSpace(strings.Trim(t, "[] "))
			continue
		}
		if cur == table && (index < 0 || n == index) && keyRe.MatchString(t) {
			return line
		}
	}
	return 0
}

// ParseConfig checks a configuration given its text; name is used in errors.
func ParseConfig(name string, src []byte) (*Config, error) {
	var f File
	md, err := toml.Decode(string(src), &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &ConfigError{File: name, Line: pe.Position.Line, Key: pe.LastKey, Err: errors.New(pe.Message)}
		}
		return nil, &ConfigError{File: name, Key: "(file)", Err: err}
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		tbl, idx, key := "", -1, k.String()
		if len(k) >= 2 {
			tbl, key = k[0], k[len(k)-1]
			if tbl == "pad" || tbl == "connection" {
				idx = -1
			}
		}
		return nil, &ConfigError{File: name, Line: keyLine(src, tbl, idx, key), Key: k.String(), Err: errors.New("unknown key")}
	}
	c := &Config{Port: 500, NATTPort: 4500, Socket: DefaultSocket, RetransmitBase: time.Second, RetransmitTries: 5, RemotePorts: map[string]uint16{}}
	gerr := func(key string, err error) error {
		return &ConfigError{File: name, Line: keyLine(src, "global", -1, key), Key: "global." + key, Err: err}
	}
	g := f.Global
	for _, a := range g.Listen {
		ad, err := netip.ParseAddr(a)
		if err != nil {
			return nil, gerr("listen", err)
		}
		c.Listen = append(c.Listen, ad)
	}
	if g.Port != 0 {
		if g.Port < 0 || g.Port > 65535 {
			return nil, gerr("port", fmt.Errorf("%d out of range", g.Port))
		}
		c.Port = uint16(g.Port)
	}
	if g.NATTPort != 0 {
		if g.NATTPort < 0 || g.NATTPort > 65535 || g.NATTPort == int(c.Port) {
			return nil, gerr("natt_port", fmt.Errorf("%d out of range or equal to port", g.NATTPort))
		}
		c.NATTPort = uint16(g.NATTPort)
	}
	if g.Socket != "" {
		c.Socket = g.Socket
	}
	updType := msg.DefaultUpdateSPI
	if g.UpdateSPIType != 0 {
		if g.UpdateSPIType < int(msg.PrivateStatusMin) || g.UpdateSPIType > int(msg.PrivateStatusMax) {
			return nil, gerr("update_spi_type", fmt.Errorf("%d is not a private-use status type (40960-65535)", g.UpdateSPIType))
		}
		updType = msg.NotifyType(g.UpdateSPIType)
	}
	if g.RetransmitBase != "" {
		d, err := time.ParseDuration(g.RetransmitBase)
		if err != nil || d <= 0 {
			return nil, gerr("retransmit_base", fmt.Errorf("bad duration %q", g.RetransmitBase))
		}
		c.RetransmitBase = d
	}
	if g.RetransmitTries != 0 {
		if g.RetransmitTries < 1 || g.RetransmitTries > 20 {
			return nil, gerr("retransmit_tries", fmt.Errorf("%d not in 1-20", g.RetransmitTries))
		}
		c.RetransmitTries = g.RetransmitTries
	}
	if g.CookieThreshold < 0 {
		return nil, gerr("cookie_threshold", errors.New("negative"))
	}
	c.CookieThreshold = g.CookieThreshold
	if !md.IsDefined("global", "cookie_threshold") {
		c.CookieThreshold = DefaultCookieThreshold
	}
	for i, p := range f.PAD {
		perr := func(key string, err error) error {
			return &ConfigError{File: name, Line: keyLine(src, "pad", i, key), Key: fmt.Sprintf("pad[%d].%s", i, key), Err: err}
		}
		id, err := ikev2.ParseIdentity(p.ID)
		if err != nil {
			return nil, perr("id", err)
		}
		if p.Auth != "" && p.Auth != "psk" {
			return nil, perr("auth", fmt.Errorf("method %q not supported (psk)", p.Auth))
		}
		if len(p.PSK) < 8 {
			return nil, perr("psk", errors.New("missing or shorter than 8 characters"))
		}
		psk := []byte(p.PSK)
		if strings.HasPrefix(p.PSK, "0x") {
			if v, err := parseHex(p.PSK[2:]); err == nil {
				psk = v
			} else {
				return nil, perr("psk", err)
			}
		}
		for _, q := range c.PAD {
			if q.ID.Equal(id) {
				return nil, perr("id", fmt.Errorf("duplicate PAD entry %v", id))
			}
		}
		c.PAD = append(c.PAD, ikev2.PADEntry{ID: id, Method: "psk", PSK: psk})
	}
	names := map[string]bool{}
	for i, cf := range f.Connection {
		cerr := func(key string, err error) error {
			return &ConfigError{File: name, Line: keyLine(src, "connection", i, key), Key: fmt.Sprintf("connection[%d].%s", i, key), Err: err}
		}
		if cf.Name == "" {
			cf.Name = "conn" + strconv.Itoa(i)
		}
		if names[cf.Name] {
			return nil, cerr("name", fmt.Errorf("duplicate connection %q", cf.Name))
		}
		names[cf.Name] = true
		k := &ikev2.Config{Name: cf.Name, UpdateSPI: updType, MOBIKE: true, IKELifetime: 4 * time.Hour, ChildLifetime: time.Hour}
		var err error
		if cf.LocalAddr != "" && cf.LocalAddr != "%any" {
			if k.LocalAddr, err = netip.ParseAddr(cf.LocalAddr); err != nil {
				return nil, cerr("local_addr", err)
			}
		}
		if cf.RemoteAddr != "" && cf.RemoteAddr != "%any" {
			if k.RemoteAddr, err = netip.ParseAddr(cf.RemoteAddr); err != nil {
				return nil, cerr("remote_addr", err)
			}
		}
		c.RemotePorts[cf.Name] = c.Port
		if cf.RemotePort != 0 {
			if cf.RemotePort < 0 || cf.RemotePort > 65535 {
				return nil, cerr("remote_port", fmt.Errorf("%d out of range", cf.RemotePort))
			}
			c.RemotePorts[cf.Name] = uint16(cf.RemotePort)
		}
		if k.LocalID, err = ikev2.ParseIdentity(cf.LocalID); err != nil {
			return nil, cerr("local_id", err)
		}
		if cf.RemoteID != "" {
			if k.RemoteID, err = ikev2.ParseIdentity(cf.RemoteID); err != nil {
				return nil, cerr("remote_id", err)
			}
			found := false
			for _, p := range c.PAD {
				found = found || p.ID.Equal(k.RemoteID)
			}
			if !found {
				return nil, cerr("remote_id", fmt.Errorf("no [[pad]] entry for %v", k.RemoteID))
			}
		} else if cf.Start {
			return nil, cerr("remote_id", errors.New("an initiating connection needs remote_id"))
		}
		if len(cf.IKEProposals) == 0 {
			cf.IKEProposals = []string{"aes128-sha256-modp2048"}
		}
		for _, s := range cf.IKEProposals {
			p, err := ikev2.ParseProposal(s, msg.ProtoIKE)
			if err != nil {
				return nil, cerr("ike_proposals", err)
			}
			k.IKEProposals = append(k.IKEProposals, p)
		}
		if len(cf.ESPProposals) == 0 {
			cf.ESPProposals = []string{"aes128-sha256"}
		}
		for _, s := range cf.ESPProposals {
			p, err := ikev2.ParseProposal(s, msg.ProtoESP)
			if err != nil {
				return nil, cerr("esp_proposals", err)
			}
			k.ESPProposals = append(k.ESPProposals, p)
		}
		for _, key := range []struct {
			name string
			in   []string
			out  *[]netip.Prefix
		}{{"local_ts", cf.LocalTS, &k.LocalTS}, {"remote_ts", cf.RemoteTS, &k.RemoteTS}} {
			if len(key.in) == 0 {
				return nil, cerr(key.name, errors.New("missing (the SPD selector of the connection)"))
			}
			for _, s := range key.in {
				p, err := netip.ParsePrefix(s)
				if err != nil {
					a, aerr := netip.ParseAddr(s)
					if aerr != nil {
						return nil, cerr(key.name, err)
					}
					p = netip.PrefixFrom(a, a.BitLen())
				}
				*key.out = append(*key.out, p.Masked())
			}
		}
		switch cf.Mode {
		case "", "tunnel":
		case "transport":
			k.Transport = true
		default:
			return nil, cerr("mode", fmt.Errorf("%q is neither tunnel nor transport", cf.Mode))
		}
		for _, d := range []struct {
			name string
			in   string
			out  *time.Duration
		}{{"ike_lifetime", cf.IKELifetime, &k.IKELifetime}, {"child_lifetime", cf.ChildLifetime, &k.ChildLifetime}} {
			if d.in == "" {
				continue
			}
			v, err := time.ParseDuration(d.in)
			if err != nil || v <= 0 {
				return nil, cerr(d.name, fmt.Errorf("bad duration %q", d.in))
			}
			*d.out = v
		}
		if cf.MOBIKE != nil {
			k.MOBIKE = *cf.MOBIKE
		}
		if cf.UpdateSPI != nil && !*cf.UpdateSPI {
			k.UpdateSPI = 0
		}
		if cf.Start {
			if !k.RemoteAddr.IsValid() {
				return nil, cerr("start", errors.New("an initiating connection needs remote_addr"))
			}
			c.Start = append(c.Start, cf.Name)
		}
		c.Conns = append(c.Conns, k)
	}
	return c, nil
}

func parseHex(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, errors.New("odd number of hex digits")
	}
	out := make([]byte, len(s)/2)
	for i := range out {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, err
		}
		out[i] = byte(v)
	}
	return out, nil
}
