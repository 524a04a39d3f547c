//go:build linux || freebsd

package daemon

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/ikectx/ikectx/ikev2"
	"github.com/ikectx/ikectx/ikev2/msg"
	"github.com/ikectx/ikectx/pfkey"
)

// pfkeyKernel installs child SAs through PF_KEY: GETSPI reserves the
// inbound SPI, UPDATE completes the inbound SA, ADD the outbound one,
// X_SPDADD the tunnel or transport policies (out, in, and fwd on Linux).
type pfkeyKernel struct {
	mu       sync.Mutex
	c        *pfkey.Conn
	reqid    uint32
	policies map[string]*policySet // by IKE SA name + selectors
}

type policySet struct {
	refs    int
	entries []*pfkey.PolicyEntry
}

func openKernel(logf func(string, ...any)) (ikev2.Kernel, error) {
	c, err := pfkey.Open()
	if err != nil {
		return nil, err
	}
	return &pfkeyKernel{c: c, reqid: 0x100, policies: map[string]*policySet{}}, nil
}

// PFKeyKernel returns iked's PF_KEY backend over an open socket: what an
// in-process ikev2.Manager installs its children with (testbed/stress runs
// hundreds of Managers against one kernel). The caller closes c.
func PFKeyKernel(c *pfkey.Conn) ikev2.Kernel {
	return &pfkeyKernel{c: c, reqid: 0x100, policies: map[string]*policySet{}}
}

func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

func (k *pfkeyKernel) Close() error { return k.c.Close() }

func (k *pfkeyKernel) AllocSPI(local, remote netip.Addr) (uint32, error) {
	cx, cancel := ctx()
	defer cancel()
	return k.c.GetSPI(cx, pfkey.SATypeESP, remote, local, 0x100, 0xffffffff, pfkey.ModeAny, 0)
}

func (k *pfkeyKernel) algs(c *ikev2.ChildSA) (pfkey.AuthAlg, pfkey.EncAlg, error) {
	return pfkeyAlgs(c.Encr.ID, c.Integ.ID)
}

// pfkeyAlgs maps a child's IKEv2 transforms (encr, integ: 0 with an AEAD
// cipher) to PF_KEY algorithm numbers.
func pfkeyAlgs(encr, integ uint16) (pfkey.AuthAlg, pfkey.EncAlg, error) {
	var e pfkey.EncAlg
	switch encr {
	case msg.ENCR_AES_CBC:
		e = pfkey.EncAESCBC
	case msg.ENCR_AES_GCM_16:
		e = pfkey.EncAESGCMICV16
	case msg.ENCR_AES_GCM_12:
		e = pfkey.EncAESGCMICV12
	default:
		return 0, 0, fmt.Errorf("encryption %d has no PF_KEY number", encr)
	}
	var a pfkey.AuthAlg
	switch integ {
	case 0:
	case msg.AUTH_HMAC_SHA1_96:
		a = pfkey.AuthSHA1HMAC
	case msg.AUTH_HMAC_SHA2_256_128:
		a = pfkey.AuthSHA2_256HMAC
	case msg.AUTH_HMAC_SHA2_384_192:
		a = pfkey.AuthSHA2_384HMAC
	case msg.AUTH_HMAC_SHA2_512_256:
		a = pfkey.AuthSHA2_512HMAC
	default:
		return 0, 0, fmt.Errorf("integrity %d has no PF_KEY number", integ)
	}
	return a, e, nil
}

func (k *pfkeyKernel) entries(sa *ikev2.IKESA, c *ikev2.ChildSA) (in, out *pfkey.SAEntry, err error) {
	a, e, err := k.algs(c)
	if err != nil {
		return nil, nil, err
	}
	mode := pfkey.ModeTunnel
	if c.Transport {
		mode = pfkey.ModeTransport
	}
	l, r := sa.Local.Addr(), sa.Remote.Addr()
	mk := func(spi uint32, src, dst netip.Addr, ek, ak []byte) *pfkey.SAEntry {
		s := &pfkey.SAEntry{Type: pfkey.SATypeESP, SPI: spi, Src: src, Dst: dst, Mode: mode, ReqID: c.ReqID, Replay: 32,
			Auth: a, Enc: e, Keys: pfkey.Keys{Enc: append([]byte(nil), ek...), Auth: append([]byte(nil), ak...)}}
		if c.Lifetime > 0 {
			// Linux af_key refuses (EINVAL) a hard lifetime without a soft
			// one. iked's own timers rekey at 9/10 and delete at 3/2 of
			// the lifetime: the kernel's hard limit is the latter.
			s.Hard = &pfkey.Lifetime{AddTime: uint64(c.Lifetime * 3 / 2 / time.Second)}
			s.Soft = &pfkey.Lifetime{AddTime: uint64(c.Lifetime / time.Second)}
		}
		if sa.NAT() {
			s.NATT = &pfkey.NATT{Type: 2, SPort: sa.Local.Port(), DPort: sa.Remote.Port()}
			if src == r {
				s.NATT.SPort, s.NATT.DPort = sa.Remote.Port(), sa.Local.Port()
			}
		}
		return s
	}
	return mk(c.SPIIn, r, l, c.EncIn, c.IntegIn), mk(c.SPIOut, l, r, c.EncOut, c.IntegOut), nil
}

func polKey(sa *ikev2.IKESA, c *ikev2.ChildSA) string {
	return fmt.Sprintf("%s|%v|%v", sa.Conf.Name, c.LocalTS, c.RemoteTS)
}

func (k *pfkeyKernel) Install(sa *ikev2.IKESA, c *ikev2.ChildSA) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if c.ReqID == 0 {
		if ps := k.policies[polKey(sa, c)]; ps != nil && len(ps.entries) > 0 {
			c.ReqID = ps.entries[0].Requests[0].ReqID
		} else {
			k.reqid++
			c.ReqID = k.reqid
		}
	}
	in, out, err := k.entries(sa, c)
	if err != nil {
		return err
	}
	defer in.Wipe()
	defer out.Wipe()
	cx, cancel := ctx()
	defer cancel()
	if err := k.c.Update(cx, in); err != nil {
		if err2 := k.c.Add(cx, in); err2 != nil {
			return fmt.Errorf("inbound SA: %w", err)
		}
	}
	if err := k.c.Add(cx, out); err != nil {
		return fmt.Errorf("outbound SA: %w", err)
	}
	key := polKey(sa, c)
	ps := k.policies[key]
	if ps == nil {
		ps = &policySet{}
		mode := pfkey.ModeTunnel
		if c.Transport {
			mode = pfkey.ModeTransport
		}
		l, r := sa.Local.Addr(), sa.Remote.Addr()
		for _, lt := range c.LocalTS {
			for _, rt := range c.RemoteTS {
				ps.entries = append(ps.entries, pfkey.ESPPolicies(lt.Prefix(), rt.Prefix(), l, r, mode, c.ReqID,
					pfkey.Native == pfkey.Linux && mode == pfkey.ModeTunnel)...)
			}
		}
		for _, p := range ps.entries {
			err := k.c.SPDAdd(cx, p)
			if pfkey.IsExist(err) {
				err = k.c.SPDUpdate(cx, p)
			}
			if err != nil {
				return fmt.Errorf("policy %v: %w", p, err)
			}
		}
		k.policies[key] = ps
	}
	ps.refs++
	return nil
}

func (k *pfkeyKernel) Delete(sa *ikev2.IKESA, c *ikev2.ChildSA) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	cx, cancel := ctx()
	defer cancel()
	l, r := sa.Local.Addr(), sa.Remote.Addr()
	var errs []error
	if c.SPIIn != 0 && k.owns(cx, r, l, c.SPIIn, c.EncIn, c.IntegIn) {
		if err := k.c.Delete(cx, pfkey.SATypeESP, r, l, c.SPIIn); err != nil && !pfkey.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	if c.SPIOut != 0 && k.owns(cx, l, r, c.SPIOut, c.EncOut, c.IntegOut) {
		if err := k.c.Delete(cx, pfkey.SATypeESP, l, r, c.SPIOut); err != nil && !pfkey.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	key := polKey(sa, c)
	if ps := k.policies[key]; ps != nil && c.SPIOut != 0 {
		ps.refs--
		if ps.refs <= 0 {
			for _, p := range ps.entries {
				if err := k.c.SPDDelete(cx, p); err != nil && !pfkey.IsNotExist(err) {
					errs = append(errs, err)
				}
			}
			delete(k.policies, key)
		}
	}
	return errors.Join(errs...)
}

// owns reports whether the SA the kernel finds for (dst, spi) is the one
// from src. Both Linux and FreeBSD look an SA up, and delete it, by
// destination and SPI alone: after a context transfer whose inbound SPI
// collided (another peer's SA holds it, the transferred one was never
// installed, UPDATE_SPI changes it) deleting "ours" would delete the other
// peer's SA. The source alone is not enough: a stale SA of a previous
// holder of the peer's address (rule spi-dst-src's collision, tested by
// testbed/stress) has the same source, destination and SPI; an SA with
// keys other than the child's is not the child's.
func (k *pfkeyKernel) owns(cx context.Context, src, dst netip.Addr, spi uint32, enc, auth []byte) bool {
	e, err := k.c.Get(cx, pfkey.SATypeESP, src, dst, spi)
	if err != nil || e == nil {
		return true // let Delete report what it finds
	}
	defer e.Wipe()
	if e.Src.IsValid() && e.Src.WithZone("") != src.WithZone("") {
		return false
	}
	return sameKeys(e.Keys, enc, auth)
}

// sameKeys reports whether an SA's keys are the child's; a larval SA
// (GETSPI, no keys yet) or a reply without keys is the child's.
func sameKeys(k pfkey.Keys, enc, auth []byte) bool {
	if len(k.Enc) == 0 && len(k.Auth) == 0 || len(enc) == 0 && len(auth) == 0 {
		return true
	}
	return subtle.ConstantTimeCompare(k.Enc, enc) == 1 && subtle.ConstantTimeCompare(k.Auth, auth) == 1
}

func (k *pfkeyKernel) Move(sa *ikev2.IKESA, c *ikev2.ChildSA, oldLocal, oldRemote netip.Addr) error {
	// Remove the SAs and policies at the old addresses, install at the new.
	return ikev2.Reinstall(k, sa, c, oldLocal, oldRemote)
}

func (k *pfkeyKernel) InUse(spi uint32, local netip.Addr) bool {
	cx, cancel := ctx()
	defer cancel()
	sas, err := k.c.SAs(cx, pfkey.SATypeESP)
	if err != nil {
		return false
	}
	for _, e := range sas {
		if e.SPI == spi {
			return true
		}
	}
	return false
}
