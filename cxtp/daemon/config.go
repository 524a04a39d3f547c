package daemon

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// DefaultPort is the CXTP AR-AR port (RFC 4067 section 3.1), for SCTP and UDP.
const DefaultPort = 5091

// Config is a cxtpd configuration file (TOML). See examples/cxtpd/ for
// annotated files and README for every key.
type Config struct {
	// Role is "ar" (access router) or "mn" (mobile node).
	Role Role `toml:"role"`
	// Address is this node's own address: on an AR the source and
	// listening address of the AR-AR channel, on an MN its current address.
	Address netip.Addr `toml:"address"`
	// AccessAddress is an AR's address on the access link (the one MNs
	// know it by, used in CTAR's AR field). Defaults to Address.
	AccessAddress netip.Addr `toml:"access_address"`
	// Interface is the access-link interface for ICMPv6 (MN<->AR).
	Interface string `toml:"interface"`
	// Port is the AR-AR port for SCTP and UDP (default 5091).
	Port int `toml:"port"`
	// Control is the unix-socket path of the status/control command.
	Control string `toml:"control"`

	SHM      SHMConfig      `toml:"shm"`
	Timers   TimersConfig   `toml:"timers"`
	Security SecurityConfig `toml:"security"`
	Log      LogConfig      `toml:"log"`
	Peers    []PeerConfig   `toml:"peer"`
	MNs      []MNConfig     `toml:"mn"`
	Modules  []ModuleConfig `toml:"module"`
	Mobile   MobileConfig   `toml:"mobile"`

	// File is the path the config was read from (not a TOML key).
	File string `toml:"-"`
}

// SHMConfig names the shared-memory segment shared with the context modules.
type SHMConfig struct {
	Name  string `toml:"name"`
	Slots int    `toml:"slots"`
}

// TimersConfig holds RFC 4067's constants and the context lifetime.
type TimersConfig struct {
	ContextLifetime Duration `toml:"context_lifetime"`
	MaxTransferTime Duration `toml:"max_transfer_time"`
	RequestRetry    Duration `toml:"request_retry"`
	RetryMax        Duration `toml:"retry_max"`
	RequestRate     int      `toml:"request_rate"`
	SeqWindow       Duration `toml:"seq_window"`
	// ModuleTimeout bounds a context module's PreInstall, Activate and
	// Discard (Capture is bounded by max_transfer_time).
	ModuleTimeout Duration `toml:"module_timeout"`
	// GiveUp is how long the MN role retransmits a CTAR without answer.
	GiveUp Duration `toml:"give_up"`
	// AfterAckDelay postpones the nAR's activations of after_ack FPTs and
	// the CTDR after them (0: right after the CTAA).
	AfterAckDelay Duration `toml:"after_ack_delay"`
}

// SecurityConfig holds global security switches.
type SecurityConfig struct {
	// AllowPlaintext lets contexts carrying key material go to a peer whose
	// channel is not marked protected. For tests only.
	AllowPlaintext bool `toml:"allow_plaintext"`
	// SkipSPDCheck takes protected = true on trust: the kernel's IPsec
	// policies are not checked (see CheckChannel).
	SkipSPDCheck bool `toml:"skip_spd_check"`
}

// LogConfig selects the log level and destination.
type LogConfig struct {
	Level string `toml:"level"`
	File  string `toml:"file"`
}

// PeerConfig is one peer access router.
type PeerConfig struct {
	Address netip.Addr `toml:"address"`
	// AccessAddresses are the peer's access-link addresses, as an MN would
	// name it in a CTAR.
	AccessAddresses []netip.Addr `toml:"access_addresses"`
	Transport       Transport    `toml:"transport"`
	Port            int          `toml:"port"`
	// Protected says the channel to this peer is IPsec-protected.
	Protected bool `toml:"protected"`
}

// MNConfig is the token key shared with one mobile node.
type MNConfig struct {
	Address netip.Addr `toml:"address"`
	Key     HexKey     `toml:"key"`
}

// ModuleConfig assigns FPTs to a context module.
type ModuleConfig struct {
	Name string `toml:"name"`
	FPTs []int  `toml:"fpts"`
	// KeyMaterial says this module's contexts carry keys (e.g. IPsec SAs):
	// they go only over protected channels.
	KeyMaterial bool `toml:"key_material"`
	// AfterAck lists FPTs of this module that the nAR activates after the
	// CTAA has left (contexts that do not carry the MN's traffic, e.g. the
	// IKEv1 phase 1); their failures go to the pAR in the CTDR.
	AfterAck []int `toml:"after_ack"`
	// SHM is this module's segment: default shm.name when there is one
	// module, else shm.name + "-" + name.
	SHM string `toml:"shm"`
}

// MobileConfig is the MN role's own settings.
type MobileConfig struct {
	// Key is the token key shared with the current AR.
	Key HexKey `toml:"key"`
	// AR is the current AR's access address.
	AR netip.Addr `toml:"ar"`
	// FPTs are the feature profiles requested in CTAR (empty: all).
	FPTs []int `toml:"fpts"`
	// MoveIPsec makes the MN role move the MN's own SAD/SPD to the new
	// CoA and AR itself (MNMover): prepared on `handover NAR NCOA` or
	// while the CTAR is on its way, activated on the CTAA.
	MoveIPsec bool `toml:"move_ipsec"`
}

// ConfigError is a configuration error with its place.
type ConfigError struct {
	File      string
	Line, Col int
	Key       string
	Msg       string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Key != "" {
		fmt.Fprintf(&b, "%s: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LoadConfig reads, decodes and validates a config file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cxtpd: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig decodes and validates config text; name is used in errors.
func ParseConfig(name string, data []byte) (*Config, error) {
	var c Config
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &ConfigError{File: name, Line: pe.Position.Line, Col: pe.Position.Col,
				Key: pe.LastKey, Msg: pe.Message}
		}
		return nil, &ConfigError{File: name, Msg: err.Error()}
	}
	loc := newLocator(data)
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		p := loc.find(keyPath(k), -1)
		return nil, &ConfigError{File: name, Line: p.line, Col: p.col, Key: k.String(), Msg: "unknown key"}
	}
	c.File = name
	v := validator{cfg: &c, loc: loc, file: name}
	if err := v.run(); err != nil {
		return nil, err
	}
	return &c, nil
}

func keyPath(k toml.Key) string { return strings.Join(k, ".") }

type validator struct {
	cfg  *Config
	loc  *locator
	file string
}

// fail reports key (dotted, table arrays as name.field with index idx).
func (v *validator) fail(key string, idx int, format string, a ...any) error {
	p := v.loc.find(key, idx)
	shown := key
	if idx >= 0 {
		if i := strings.IndexByte(key, '.'); i > 0 {
			shown = fmt.Sprintf("%s[%d]%s", key[:i], idx, key[i:])
		}
	}
	return &ConfigError{File: v.file, Line: p.line, Col: p.col, Key: shown, Msg: fmt.Sprintf(format, a...)}
}

func (v *validator) run() error {
	c := v.cfg
	if c.Role == "" {
		return v.fail("role", -1, "missing (\"ar\" or \"mn\")")
	}
	if !c.Address.IsValid() {
		return v.fail("address", -1, "missing")
	}
	if !c.AccessAddress.IsValid() {
		c.AccessAddress = c.Address
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Port < 1 || c.Port > 65535 {
		return v.fail("port", -1, "out of range 1-65535")
	}
	if c.Control == "" {
		return v.fail("control", -1, "missing (unix socket path for status)")
	}
	if c.Interface == "" {
		return v.fail("interface", -1, "missing (access-link interface for ICMPv6)")
	}
	t := &c.Timers
	setDur(&t.ContextLifetime, "30s")
	setDur(&t.MaxTransferTime, "200ms")
	setDur(&t.RequestRetry, "2s")
	setDur(&t.RetryMax, "15s")
	setDur(&t.SeqWindow, "7s")
	setDur(&t.ModuleTimeout, "1s")
	setDur(&t.GiveUp, "45s")
	if t.RequestRate == 0 {
		t.RequestRate = 10
	}
	if t.RequestRate < 0 {
		return v.fail("timers.request_rate", -1, "must be positive")
	}
	if t.RetryMax < t.RequestRetry {
		return v.fail("timers.retry_max", -1, "smaller than request_retry")
	}
	if t.AfterAckDelay < 0 || t.AfterAckDelay.D() > t.ContextLifetime.D() {
		return v.fail("timers.after_ack_delay", -1, "must be between 0 and context_lifetime")
	}
	switch strings.ToLower(c.Log.Level) {
	case "":
		c.Log.Level = "info"
	case "debug", "info", "warn", "error":
		c.Log.Level = strings.ToLower(c.Log.Level)
	default:
		return v.fail("log.level", -1, "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	if c.Role == RoleMN {
		return v.mobile()
	}
	return v.ar()
}

func setDur(d *Duration, def string) {
	if *d == 0 {
		_ = d.UnmarshalText([]byte(def))
	}
}

func (v *validator) mobile() error {
	c := v.cfg
	if len(c.Mobile.Key) == 0 {
		return v.fail("mobile.key", -1, "missing (token key shared with the AR, hex)")
	}
	if !c.Mobile.AR.IsValid() {
		return v.fail("mobile.ar", -1, "missing (current access router)")
	}
	for i, f := range c.Mobile.FPTs {
		if f < 0 || f > 0xffff {
			return v.fail("mobile.fpts", -1, "entry %d (%d) out of range 0-65535", i, f)
		}
	}
	if len(c.Peers) > 0 || len(c.MNs) > 0 || len(c.Modules) > 0 {
		return v.fail("role", -1, "role \"mn\" takes no [[peer]], [[mn]] or [[module]] tables")
	}
	return nil
}

func (v *validator) ar() error {
	c := v.cfg
	if c.SHM.Name == "" {
		return v.fail("shm.name", -1, "missing (shared memory segment name)")
	}
	if strings.Contains(strings.TrimPrefix(c.SHM.Name, "/"), "/") {
		return v.fail("shm.name", -1, "must be one path component like \"/cxtp-par\"")
	}
	if c.SHM.Slots == 0 {
		c.SHM.Slots = 64
	}
	if c.SHM.Slots < 1 || c.SHM.Slots > 65536 {
		return v.fail("shm.slots", -1, "out of range 1-65536")
	}
	if len(c.Peers) == 0 {
		return v.fail("peer", -1, "at least one [[peer]] is needed on an AR")
	}
	seen := map[netip.Addr]int{}
	for i := range c.Peers {
		p := &c.Peers[i]
		if !p.Address.IsValid() {
			return v.fail("peer.address", i, "missing")
		}
		if j, dup := seen[p.Address]; dup {
			return v.fail("peer.address", i, "%s already configured as peer[%d]", p.Address, j)
		}
		seen[p.Address] = i
		if p.Address == c.Address {
			return v.fail("peer.address", i, "is this AR's own address")
		}
		if p.Transport == "" {
			p.Transport = TransportSCTP
		}
		if p.Port == 0 {
			p.Port = c.Port
		}
		if p.Port < 1 || p.Port > 65535 {
			return v.fail("peer.port", i, "out of range 1-65535")
		}
		if p.Address.Is4() != c.Address.Is4() {
			return v.fail("peer.address", i, "address family differs from this AR's address %s", c.Address)
		}
	}
	seenMN := map[netip.Addr]int{}
	for i, m := range c.MNs {
		if !m.Address.IsValid() {
			return v.fail("mn.address", i, "missing")
		}
		if j, dup := seenMN[m.Address]; dup {
			return v.fail("mn.address", i, "%s already configured as mn[%d]", m.Address, j)
		}
		seenMN[m.Address] = i
		if len(m.Key) == 0 {
			return v.fail("mn.key", i, "missing (hex token key)")
		}
	}
	if len(c.Modules) == 0 {
		return v.fail("module", -1, "at least one [[module]] is needed on an AR")
	}
	fpts := map[int]string{}
	segs := map[string]string{}
	for i := range c.Modules {
		m := &c.Modules[i]
		if m.SHM == "" && m.Name != "" {
			m.SHM = c.SHM.Name
			if len(c.Modules) > 1 {
				m.SHM = c.SHM.Name + "-" + m.Name
			}
		}
		if o, dup := segs[m.SHM]; dup {
			return v.fail("module.shm", i, "segment %q already used by module %q (one context module per segment)", m.SHM, o)
		}
		segs[m.SHM] = m.Name
		if m.Name == "" {
			return v.fail("module.name", i, "missing")
		}
		if !validName(m.Name) {
			return v.fail("module.name", i, "%q: use letters, digits, '.', '_' or '-'", m.Name)
		}
		if len(m.FPTs) == 0 {
			return v.fail("module.fpts", i, "empty")
		}
		for _, f := range m.FPTs {
			if f <= 0 || f > 0xffff {
				return v.fail("module.fpts", i, "FPT %d out of range 1-65535", f)
			}
			if o, dup := fpts[f]; dup {
				return v.fail("module.fpts", i, "FPT %d already assigned to module %q", f, o)
			}
			fpts[f] = m.Name
		}
		for _, f := range m.AfterAck {
			if !slices.Contains(m.FPTs, f) {
				return v.fail("module.after_ack", i, "FPT %d is not one of the module's fpts", f)
			}
		}
	}
	return nil
}

// PeerByAddr returns the peer whose AR-AR or access address is a.
func (c *Config) PeerByAddr(a netip.Addr) (*PeerConfig, bool) {
	for i := range c.Peers {
		p := &c.Peers[i]
		if p.Address == a {
			return p, true
		}
		for _, x := range p.AccessAddresses {
			if x == a {
				return p, true
			}
		}
	}
	return nil, false
}

// FPTs returns every configured FPT, sorted.
func (c *Config) FPTs() []uint16 {
	var out []uint16
	for _, m := range c.Modules {
		for _, f := range m.FPTs {
			out = append(out, uint16(f))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return s != ""
}
