package stress

import (
	"encoding/json"
	"os"
	"time"

	"github.com/ikectx/ikectx/ipsecmod"
)

// Params are the serialisable Options: what `testbed stress --lab` hands
// to the lab test (TestLabStress) in the environment variable
// IKECTX_STRESS as JSON.
type Params struct {
	MNs           int           `json:"mns,omitempty"`
	Children      int           `json:"children,omitempty"`
	Rule          string        `json:"rule,omitempty"`
	Seed          uint64        `json:"seed,omitempty"`
	CollideESP    float64       `json:"collide_esp,omitempty"`
	CollideIKE    float64       `json:"collide_ike,omitempty"`
	Others        int           `json:"others,omitempty"`
	SPIRange      uint32        `json:"spi_range,omitempty"`
	MaxRoundTrips int           `json:"max_round_trips,omitempty"`
	Timer         time.Duration `json:"timer,omitempty"`
}

// EnvParams is the name of the environment variable with Params.
const EnvParams = "IKECTX_STRESS"

// ParamsOf returns o's serialisable part.
func ParamsOf(o Options) Params {
	return Params{MNs: o.MNs, Children: o.Children, Rule: o.Rule.String(), Seed: o.Seed, CollideESP: o.CollideESP, CollideIKE: o.CollideIKE,
		Others: o.Others, SPIRange: o.SPIRange, MaxRoundTrips: o.MaxRoundTrips, Timer: o.Timer}
}

// Options returns the Options (no backend, no log).
func (p Params) Options() (Options, error) {
	o := Options{MNs: p.MNs, Children: p.Children, Seed: p.Seed, CollideESP: p.CollideESP, CollideIKE: p.CollideIKE,
		Others: p.Others, SPIRange: p.SPIRange, MaxRoundTrips: p.MaxRoundTrips, Timer: p.Timer}
	if p.Rule != "" {
		r, err := ipsecmod.ParseRule(p.Rule)
		if err != nil {
			return o, err
		}
		o.Rule = r
	}
	return o, nil
}

// ParamsFromEnv reads IKECTX_STRESS (ok false when unset).
func ParamsFromEnv() (Params, bool, error) {
	s := os.Getenv(EnvParams)
	if s == "" {
		return Params{}, false, nil
	}
	var p Params
	err := json.Unmarshal([]byte(s), &p)
	return p, true, err
}
