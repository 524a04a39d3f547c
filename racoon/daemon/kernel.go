package daemon

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/pfkey/setkey"
	"github.com/ikectx/ikectx/racoon/ike"
	"github.com/ikectx/ikectx/racoon/isakmp"
)

// Kernel is where negotiated SAs go: PF_KEY, or memory with --no-kernel.
type Kernel interface {
	// GetSPI reserves an inbound SPI for SAs from src to dst.
	GetSPI(ctx context.Context, src, dst netip.Addr, mode pfkey.Mode, reqid uint32) (uint32, error)
	// Install completes the inbound (larval, from GetSPI) SA and adds the
	// outbound one.
	Install(ctx context.Context, in, out *pfkey.SAEntry) error
	// SAs lists the SAs (t SATypeUnspec: all), keys included.
	SAs(ctx context.Context, t pfkey.SAType) ([]*pfkey.SAEntry, error)
	// Flush deletes the SAs of type t.
	Flush(ctx context.Context, t pfkey.SAType) error
	// Delete removes one SA.
	Delete(ctx context.Context, t pfkey.SAType, src, dst netip.Addr, spi uint32) error
	// Policy returns the policy with this kernel id.
	Policy(ctx context.Context, id uint32) (*pfkey.PolicyEntry, error)
	// Policies lists the security policies.
	Policies(ctx context.Context) ([]*pfkey.PolicyEntry, error)
	// AddPolicy installs a policy (generate_policy).
	AddPolicy(ctx context.Context, p *pfkey.PolicyEntry) error
	// Events delivers ACQUIRE and EXPIRE messages (nil channel without a kernel).
	Events() <-chan *pfkey.Message
	Close() error
}

// errNoKernel is returned for operations that need a real kernel.
var errNoKernel = errors.New("racoon: no kernel (--no-kernel): there are no security policies")

// memKernel keeps SAs in memory for hosts without PF_KEY (--no-kernel).
type memKernel struct {
	mu   sync.Mutex
	sas  []*pfkey.SAEntry
	pols []*pfkey.PolicyEntry
}

func (m *memKernel) GetSPI(ctx context.Context, src, dst netip.Addr, mode pfkey.Mode, reqid uint32) (uint32, error) {
	var b [4]byte
	for {
		rand.Read(b[:])
		spi := binary.BigEndian.Uint32(b[:])
		if spi >= 256 {
			return spi, nil
		}
	}
}

func (m *memKernel) Install(ctx context.Context, in, out *pfkey.SAEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := uint64(time.Now().Unix())
	for _, e := range []*pfkey.SAEntry{in, out} {
		c := e.Clone()
		c.Current.AddTime = now
		m.sas = append(m.sas, c)
	}
	return nil
}

func (m *memKernel) SAs(ctx context.Context, t pfkey.SAType) ([]*pfkey.SAEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return pfkey.Clones(m.sas, pfkey.OfType(t)), nil
}

func (m *memKernel) Flush(ctx context.Context, t pfkey.SAType) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	keep := m.sas[:0]
	for _, s := range m.sas {
		if t == pfkey.SATypeUnspec || s.Type == t {
			s.Wipe()
			continue
		}
		keep = append(keep, s)
	}
	m.sas = keep
	return nil
}

func (m *memKernel) Delete(ctx context.Context, t pfkey.SAType, src, dst netip.Addr, spi uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, s := range m.sas {
		if s.Type == t && s.SPI == spi && s.Dst == dst {
			s.Wipe()
			m.sas = append(m.sas[:i], m.sas[i+1:]...)
			return nil
		}
	}
	return nil
}

func (m *memKernel) Policy(ctx context.Context, id uint32) (*pfkey.PolicyEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.pols {
		if p.ID == id {
			return p.Clone(), nil
		}
	}
	return nil, errNoKernel
}

func (m *memKernel) Policies(ctx context.Context) ([]*pfkey.PolicyEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return pfkey.Clones(m.pols, nil), nil
}

func (m *memKernel) AddPolicy(ctx context.Context, p *pfkey.PolicyEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := p.Clone()
	c.ID = uint32(len(m.pols) + 1)
	m.pols = append(m.pols, c)
	return nil
}

// policiesFromSetkey reads the spdadd statements of a setkey file.
func policiesFromSetkey(path string) ([]*pfkey.PolicyEntry, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sc, err := setkey.Parse(path, src, nil)
	if err != nil {
		return nil, err
	}
	ops, err := setkey.Build(sc, pfkey.Native)
	if err != nil {
		return nil, err
	}
	var out []*pfkey.PolicyEntry
	for _, o := range ops {
		if o.Msg == nil || o.Msg.Type != pfkey.MsgXSPDAdd {
			continue
		}
		p, err := pfkey.PolicyEntryFrom(o.Msg)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
func (m *memKernel) Events() <-chan *pfkey.Message { return nil }
func (m *memKernel) Close() error                  { return m.Flush(context.Background(), pfkey.SATypeUnspec) }

// saEntries builds the inbound and outbound SAs of a finished quick mode.
func saEntries(q *ike.Phase2, local, remote netip.Addr, mode pfkey.Mode, reqid uint32, natt *pfkey.NATT) (in, out *pfkey.SAEntry) {
	c := q.Chosen
	st := pfkey.SATypeESP
	if c.Protocol == isakmp.ProtoIPsecAH {
		st = pfkey.SATypeAH
	}
	var enc pfkey.EncAlg
	switch c.Transform {
	case isakmp.ESPDES:
		enc = pfkey.EncDESCBC
	case isakmp.ESP3DES:
		enc = pfkey.Enc3DESCBC
	case isakmp.ESPAES:
		enc = pfkey.EncAESCBC
	case isakmp.ESPNull:
		enc = pfkey.EncNull
	case isakmp.ESPBlowfish:
		enc = pfkey.EncBlowfishCBC
	}
	var auth pfkey.AuthAlg
	switch c.Auth {
	case isakmp.AuthAlgHMACMD5:
		auth = pfkey.AuthMD5HMAC
	case isakmp.AuthAlgHMACSHA:
		auth = pfkey.AuthSHA1HMAC
	case isakmp.AuthAlgHMACSHA256:
		auth = pfkey.AuthSHA2_256HMAC
	case isakmp.AuthAlgHMACSHA384:
		auth = pfkey.AuthSHA2_384HMAC
	case isakmp.AuthAlgHMACSHA512:
		auth = pfkey.AuthSHA2_512HMAC
	}
	mk := func(spi uint32, src, dst netip.Addr, key []byte) *pfkey.SAEntry {
		ek, ak := q.SplitKey(key)
		e := &pfkey.SAEntry{Type: st, SPI: spi, Src: src, Dst: dst, Proto: pfkey.ProtoAny, Mode: mode, ReqID: reqid,
			Replay: 4, State: pfkey.SAStateMature, Auth: auth, Enc: enc,
			Keys: pfkey.Keys{Enc: append([]byte(nil), ek...), Auth: append([]byte(nil), ak...)}}
		if c.Lifetime > 0 {
			secs := uint64(c.Lifetime.Seconds())
			e.Hard = &pfkey.Lifetime{AddTime: secs}
			e.Soft = &pfkey.Lifetime{AddTime: secs * 8 / 10}
		}
		if natt != nil {
			n := *natt
			if src == remote {
				n.SPort, n.DPort = natt.DPort, natt.SPort
			}
			e.NATT = &n
		}
		return e
	}
	return mk(q.SPIIn, remote, local, q.KeyIn), mk(q.SPIOut, local, remote, q.KeyOut)
}
