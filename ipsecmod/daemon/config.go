// Package daemon is ipsec-cxtpd, the IPsec-CXTP module of the paper's
// Figure 3, as a process: TOML configuration, the shm + signals channel to
// cxtpd, the PF_KEY socket, racoon's admin socket, a status socket, and
// the MN's rewrite command. cmd/ipsec-cxtpd is a thin main over Main.
//
// # Configuration (TOML; examples/ipsec-cxtpd/*.toml are annotated)
//
//	address             this router's tunnel endpoint towards the MNs
//	                    (its access-link address); required
//	sad_lookup          "spi" | "spi-dst" | "spi-dst-src" (default
//	                    the kernel's: "spi-dst" on Linux, "spi" on FreeBSD)
//	predict_prefix      the nAR's access prefix: predict the MN's nCoA
//	                    (prefix + previous interface ID) and install SAs
//	                    before the CTAR (optional)
//	policy_priority     priority of installed policies (0: beat the nAR's
//	                    discard policies automatically)
//	delete_on_transfer  pAR: delete the MN's SAs/policies after the CTDR
//	                    (default false: keep until their lifetimes)
//	lifetime            pre-installed context expiry (60s)
//	call_timeout        bound of one PF_KEY/racoon call (2s)
//	status              status socket path (/run/ipsec-cxtpd.sock)
//	[shm]               name (cxtpd's segment for this module; required),
//	                    slots (0: as cxtpd)
//	[fpt]               ipsec_sa, ipsec_sp, ikev1, ikev2 (0x8001-0x8004)
//	[racoon]            socket (racoon's admin socket; absent: no IKEv1)
//	[iked]              socket (iked's control socket; absent: no IKEv2),
//	                    max_round_trips (Algorithm 1's MAX_ROUND_TRIPS, 3),
//	                    timer (its TIMER, 5s)
//	[log]               level (debug|info|warn|error), file (stderr)
//
// `ipsec-cxtpd -t -c FILE` checks a file: errors name FILE:LINE and the
// key; unknown keys are errors.
package daemon

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/ikectx/ikectx/cxtp"
	"github.com/ikectx/ikectx/ipsecmod"
)

// DefaultStatus is the default status socket.
const DefaultStatus = "/run/ipsec-cxtpd.sock"

// Config is an ipsec-cxtpd configuration.
type Config struct {
	Address          string    `toml:"address"`
	SADLookup        string    `toml:"sad_lookup"`
	PredictPrefix    string    `toml:"predict_prefix"`
	PolicyPriority   int64     `toml:"policy_priority"`
	DeleteOnTransfer bool      `toml:"delete_on_transfer"`
	Lifetime         string    `toml:"lifetime"`
	CallTimeout      string    `toml:"call_timeout"`
	Status           string    `toml:"status"`
	SHM              SHMConfig `toml:"shm"`
	FPT              FPTConfig `toml:"fpt"`
	Racoon           Racoon    `toml:"racoon"`
	Iked             Iked      `toml:"iked"`
	Log              LogConfig `toml:"log"`

	// Resolved values (not TOML keys).
	File     string          `toml:"-"`
	Module   ipsecmod.Config `toml:"-"`
	LogLevel string          `toml:"-"`
}

// SHMConfig names cxtpd's segment for this module.
type SHMConfig struct {
	Name  string `toml:"name"`
	Slots int    `toml:"slots"`
}

// FPTConfig chooses the FPT numbers (none is registered).
type FPTConfig struct {
	IPsecSA int64 `toml:"ipsec_sa"`
	IPsecSP int64 `toml:"ipsec_sp"`
	IKEv1   int64 `toml:"ikev1"`
	IKEv2   int64 `toml:"ikev2"`
}

// Racoon locates racoon's admin socket.
type Racoon struct {
	Socket string `toml:"socket"`
}

// Iked locates iked's control socket and sets Algorithm 1's parameters
// for the SPI collisions the nAR repairs with UPDATE_SPI.
type Iked struct {
	Socket        string `toml:"socket"`
	MaxRoundTrips int    `toml:"max_round_trips"`
	Timer         string `toml:"timer"`

	TimerValue time.Duration `toml:"-"`
}

// LogConfig selects the log level and file.
type LogConfig struct {
	Level string `toml:"level"`
	File  string `toml:"file"`
}

// LoadConfig reads and checks a file.
func LoadConfig(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("ipsec-cxtpd: %w", err)
	}
	return ParseConfig(file, data)
}

// ParseConfig parses and checks the text of a configuration file.
func ParseConfig(file string, data []byte) (*Config, error) {
	c := &Config{File: file}
	md, err := toml.Decode(string(data), c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %s", file, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0].String()
		return nil, fmt.Errorf("%s:%d: unknown key %q", file, keyLine(data, k), k)
	}
	bad := func(key string, format string, a ...any) error {
		return fmt.Errorf("%s:%d: %s: %s", file, keyLine(data, key), key, fmt.Sprintf(format, a...))
	}
	m := &c.Module
	if c.Address == "" {
		return nil, fmt.Errorf("%s: address: missing (this router's tunnel endpoint towards the MNs)", file)
	}
	if m.Address, err = netip.ParseAddr(c.Address); err != nil {
		return nil, bad("address", "%v", err)
	}
	if m.Rule, err = ipsecmod.ParseRule(c.SADLookup); err != nil {
		return nil, bad("sad_lookup", "%v", err)
	}
	if c.PredictPrefix != "" {
		if m.Predict, err = netip.ParsePrefix(c.PredictPrefix); err != nil {
			return nil, bad("predict_prefix", "%v", err)
		}
		if m.Predict.Addr().Is4() || m.Predict.Bits() > 64 {
			return nil, bad("predict_prefix", "want an IPv6 prefix of at most 64 bits, got %v", m.Predict)
		}
	}
	if c.PolicyPriority < 0 || c.PolicyPriority > 0xffffffff {
		return nil, bad("policy_priority", "%d out of range 0..4294967295", c.PolicyPriority)
	}
	m.PolicyPriority = uint32(c.PolicyPriority)
	m.DeleteOnTransfer = c.DeleteOnTransfer
	if m.Lifetime, err = duration(c.Lifetime, 60*time.Second); err != nil {
		return nil, bad("lifetime", "%v", err)
	}
	if m.CallTimeout, err = duration(c.CallTimeout, 2*time.Second); err != nil {
		return nil, bad("call_timeout", "%v", err)
	}
	if c.Iked.MaxRoundTrips < 0 || c.Iked.MaxRoundTrips > 100 {
		return nil, bad("iked.max_round_trips", "%d out of range 0..100", c.Iked.MaxRoundTrips)
	}
	if c.Iked.MaxRoundTrips == 0 {
		c.Iked.MaxRoundTrips = 3
	}
	if c.Iked.TimerValue, err = duration(c.Iked.Timer, 5*time.Second); err != nil {
		return nil, bad("iked.timer", "%v", err)
	}
	if c.Status == "" {
		c.Status = DefaultStatus
	}
	if c.SHM.Name == "" {
		return nil, fmt.Errorf("%s: shm.name: missing (the segment cxtpd uses for this module)", file)
	}
	if c.SHM.Slots < 0 || c.SHM.Slots > 4096 {
		return nil, bad("shm.slots", "%d out of range 0..4096", c.SHM.Slots)
	}
	f := ipsecmod.DefaultFPTs()
	for _, x := range []struct {
		key string
		v   int64
		dst *cxtp.FPT
	}{{"fpt.ipsec_sa", c.FPT.IPsecSA, &f.SA}, {"fpt.ipsec_sp", c.FPT.IPsecSP, &f.SP}, {"fpt.ikev1", c.FPT.IKEv1, &f.IKEv1}, {"fpt.ikev2", c.FPT.IKEv2, &f.IKEv2}} {
		if x.v == 0 {
			continue
		}
		if x.v < 2 || x.v > 0xffff {
			return nil, bad(x.key, "FPT %d out of range 2..65535", x.v)
		}
		*x.dst = cxtp.FPT(x.v)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("%s:%d: fpt: %v", file, keyLine(data, "fpt"), err)
	}
	m.FPTs = f
	switch c.Log.Level {
	case "", "info", "debug", "warn", "error":
	default:
		return nil, bad("log.level", "unknown level %q (debug, info, warn, error)", c.Log.Level)
	}
	return c, nil
}

func duration(s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive, got %v", d)
	}
	return d, nil
}

// keyLine finds the line of a dotted key ("shm.name", "address") in TOML
// text: the line of the key inside its [table], or of the table header
// for a table name; 0 when not found.
func keyLine(data []byte, key string) int {
	table, name := "", key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		table, name = key[:i], key[i+1:]
	}
	cur := ""
	for n, raw := range strings.Split(string(data), "\n") {
		s := strings.TrimSpace(raw)
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = strings.TrimSpace(s[:i])
		}
		if strings.HasPrefix(s, "[") {
			cur = strings.TrimSpace(strings.Trim(s, "[]"))
			if table == "" && cur == name || cur == key {
				return n + 1
			}
			continue
		}
		k, _, ok := strings.Cut(s, "=")
		if !ok {
			continue
		}
		k = strings.Trim(strings.TrimSpace(k), `"`)
		if cur == table && k == name || cur == "" && k == key {
			return n + 1
		}
	}
	return 0
}
