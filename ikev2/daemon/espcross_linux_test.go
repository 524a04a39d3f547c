package daemon

// ESP crosses between strongSwan's charon (kernel-libipsec: ESP in user
// space, UDP-encapsulated because it pretends to be behind a NAT) and the
// child SAs ikectx's iked negotiated. iked runs with --no-kernel (this
// host has no kernel ESP), so the test plays iked's ESP: it takes the
// child SA keys from iked's root-only control socket (the export-peer
// command of context transfer), decrypts charon's ESP captured on iked's
// interface with iked's inbound SA, and seals datagrams with iked's
// outbound SA for charon to accept and deliver out of its tunnel. Checked
// after IKE_AUTH, after a child rekey by each side (new SPIs in use) and
// after a MOBIKE address change (ESP from and to the new address), for
// both initiators and four ESP proposals.

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ikectx/ikectx/ikev2"
	"github.com/ikectx/ikectx/internal/charontest"
	"github.com/ikectx/ikectx/internal/esptest"
)

// espLab is one interop run's state for the ESP checks: the outer
// addresses in use now and the sequence numbers the test has sent per
// outbound SPI.
type espLab struct {
	*lab
	c          *charontest.Charon
	k          *iked
	swCur      netip.Addr // charon's outer address now
	ikCur      netip.Addr // iked's outer address now
	sent       map[uint32]uint32
	lastIn     uint32 // iked's inbound SPI at the previous check
	packetsOut int    // ESP packets of charon captured, all steps
	bytesOut   int
}

// ikedChild returns iked's child SA with its keys (export-peer: the IKE SA
// with charon's current address), as test decoders for iked's inbound and
// outbound SA.
func (e *espLab) ikedChild(t *testing.T) (ikev2.ChildState, *esptest.SA, *esptest.SA) {
	t.Helper()
	out, err := e.k.ctl("export-peer", e.swCur.String())
	if err != nil {
		t.Fatalf("export-peer %v: %v", e.swCur, err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("export-peer %v: %d IKE SAs, want 1", e.swCur, len(lines))
	}
	var st ikev2.SAState
	if err := json.Unmarshal([]byte(lines[0]), &st); err != nil {
		t.Fatalf("export-peer: %v", err)
	}
	t.Cleanup(st.Wipe)
	if len(st.Children) != 1 {
		t.Fatalf("iked has %d child SAs, want 1", len(st.Children))
	}
	c := st.Children[0]
	in, err := decoderFor(c, c.SPIIn, c.EncIn, c.IntegIn)
	if err != nil {
		t.Fatal(err)
	}
	outSA, err := decoderFor(c, c.SPIOut, c.EncOut, c.IntegOut)
	if err != nil {
		t.Fatal(err)
	}
	return c, in, outSA
}

// decoderFor maps one direction of an IKEv2 child SA to the test codec.
func decoderFor(c ikev2.ChildState, spi uint32, enc, integ []byte) (*esptest.SA, error) {
	a, e, err := pfkeyAlgs(c.Encr, c.Integ)
	if err != nil {
		return nil, fmt.Errorf("child %s: %w", c.Proposal, err)
	}
	sa, err := esptest.FromPFKEY(spi, e, a, enc, integ)
	if err != nil {
		return nil, fmt.Errorf("child %s: %w", c.Proposal, err)
	}
	sa.ESN = c.ESN
	return sa, nil
}

// wrongKeys is sa with the keys of other: the control that must fail.
func wrongKeys(sa, other *esptest.SA) *esptest.SA {
	w := *sa
	w.EncKey, w.AuthKey = other.EncKey, other.AuthKey
	return &w
}

// inner addresses: charon's protected address (on lo) and a host of
// iked's protected subnet.
func (e *espLab) swInnerAddr() netip.Addr {
	return netip.MustParsePrefix(e.family.swInner).Addr()
}

func (e *espLab) ikInnerAddr() netip.Addr {
	return netip.MustParsePrefix(e.family.ikNet).Addr().Next()
}

// crossESP checks both directions with iked's child SA as it is now.
func (e *espLab) crossESP(t *testing.T, step string) {
	t.Helper()
	c, in, out := e.ikedChild(t)
	if c.SPIIn == e.lastIn {
		t.Errorf("%s: iked's inbound SPI %08x is the one of the previous step", step, c.SPIIn)
	}
	e.lastIn = c.SPIIn
	t.Logf("%s: child %s in %08x out %08x, outer %v (charon) <-> %v (iked)", step, c.Proposal, c.SPIIn, c.SPIOut, e.swCur, e.ikCur)
	e.fromCharon(t, step, in, out)
	e.toCharon(t, step, in, out)
}

// fromCharon sends datagrams from charon's protected address into its
// tunnel and checks that they arrive at iked's current address as ESP with
// iked's inbound SPI, from charon's current address, and open with iked's
// inbound keys (and not with its outbound ones).
func (e *espLab) fromCharon(t *testing.T, step string, in, out *esptest.SA) {
	t.Helper()
	snap, stop := esptest.Capture(t, e.ik, e.ikDev)
	defer stop()
	src, dst := e.swInnerAddr(), e.ikInnerAddr()
	conn, err := esptest.DialUDP(e.sw, netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 9))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lport := uint16(conn.LocalAddr().(*net.UDPAddr).Port)
	tag := strings.ReplaceAll(step, " ", "-")
	const want = 3
	start := time.Now()
	for i := 0; i < want; i++ {
		if _, err := conn.Write([]byte(fmt.Sprintf("ikev2-esp-from-charon-%d-%s", i, tag))); err != nil {
			t.Fatal(err)
		}
	}
	esptest.WaitFrames(snap, want, start, 5*time.Second, 5*time.Millisecond)
	crossed := time.Since(start)
	stop()
	frames := snap()
	if len(frames) != want {
		t.Fatalf("%s: %d ESP packets from charon captured on iked's side, want %d", step, len(frames), want)
	}
	opened := esptest.CheckInbound(t, frames, esptest.Inbound{
		Label: step + ": ",
		Src:   e.swCur, Dst: e.ikCur, UDP: true,
		In: in, Wrong: wrongKeys(in, out),
		InnerSrc: netip.AddrPortFrom(src, lport), InnerDst: netip.AddrPortFrom(dst, 9),
		Prefix: "ikev2-esp-from-charon-", Suffix: "-" + tag,
	})
	for _, o := range opened {
		e.packetsOut++
		e.bytesOut += o.Frame.Size
		p := o.Packet
		t.Logf("%s: charon -> iked ESP #%d: SPI %08x seq %d, UDP 4500, frame %d bytes, ESP %d, pad %d, next header %d: %v -> %v %q",
			step, o.Index, p.SPI, p.Seq, o.Frame.Size, len(o.Frame.ESP), p.PadLen, p.NextHeader, o.Src.Addr(), o.Dst, o.Payload)
	}
	t.Logf("%s: %d datagrams into charon's tunnel, %d ESP packets on iked's side after %v", step, want, len(opened), crossed.Round(time.Microsecond))
}

var swInRe = regexp.MustCompile(`in  ([0-9a-f]{8}),\s+(\d+) bytes,\s+(\d+) packets`)

// charonIn is the packet counter of charon's inbound SA spi.
func (e *espLab) charonIn(t *testing.T, spi uint32) int {
	t.Helper()
	sw, err := e.c.Swanctl("--list-sas")
	if err != nil {
		t.Fatalf("swanctl --list-sas: %v\n%s", err, sw)
	}
	for _, m := range swInRe.FindAllStringSubmatch(sw, -1) {
		if m[1] == fmt.Sprintf("%08x", spi) {
			n, _ := strconv.Atoi(m[3])
			return n
		}
	}
	t.Fatalf("charon has no inbound SA %08x:\n%s", spi, sw)
	return 0
}

// toCharon is the other direction, which iked cannot send itself without
// kernel ESP: the test seals UDP datagrams with iked's outbound SA
// (UDP-encapsulated, as the NAT charon pretends to see requires) and sends
// them from iked's current address to charon's current address, port 4500;
// charon's libipsec must authenticate, decrypt and deliver them to a
// socket on its protected address, and count them on its inbound SA. A
// control packet with iked's outbound SPI but its inbound keys, sent
// first, must not come out nor be counted.
func (e *espLab) toCharon(t *testing.T, step string, in, out *esptest.SA) {
	t.Helper()
	bad := wrongKeys(out, in)
	src, dst := e.ikInnerAddr(), e.swInnerAddr()
	ln, err := esptest.ListenUDP(e.sw, netip.AddrPortFrom(dst, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := esptest.DialUDP(e.ik, netip.AddrPortFrom(e.ikCur, 0), netip.AddrPortFrom(e.swCur, 4500))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	before := e.charonIn(t, out.SPI)
	dport := uint16(ln.LocalAddr().(*net.UDPAddr).Port)
	ivLen, err := out.IVLen()
	if err != nil {
		t.Fatal(err)
	}
	tag := strings.ReplaceAll(step, " ", "-")
	const want = 2
	for i := 0; i <= want; i++ {
		payload := fmt.Sprintf("ikev2-esp-to-charon-%d-%s", i, tag)
		sa := out
		if i == 0 {
			sa, payload = bad, "control, wrong keys"
		}
		next, inner, err := esptest.BuildUDP(netip.AddrPortFrom(src, 9999), netip.AddrPortFrom(dst, dport), uint16(i), []byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		iv := make([]byte, ivLen)
		rand.Read(iv)
		seq := e.sent[out.SPI] + 1
		if i > 0 {
			e.sent[out.SPI] = seq
		}
		esp, err := sa.Encode(seq, iv, next, inner)
		if err != nil {
			t.Fatal(err)
		}
		sentAt := time.Now()
		if _, err := conn.Write(esp); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			continue
		}
		b, from, err := esptest.ReadUDP(ln, 5*time.Second)
		if err != nil {
			t.Fatalf("%s: ESP seq %d sealed with iked's outbound SA %08x: no datagram out of charon's tunnel: %v", step, seq, out.SPI, err)
		}
		if string(b) != payload || from.Addr().Unmap() != src || from.Port() != 9999 {
			t.Fatalf("%s: out of charon's tunnel: %v %q, want %v:9999 %q (the wrong-key control came out?)", step, from, b, src, payload)
		}
		t.Logf("%s: iked -> charon ESP: SPI %08x seq %d, ESP %d bytes, %v -> %v:4500: charon delivered %v -> %v:%d %q after %v",
			step, out.SPI, seq, len(esp), e.ikCur, e.swCur, from, dst, dport, b, time.Since(sentAt).Round(time.Microsecond))
	}
	if b, from, err := esptest.ReadUDP(ln, 50*time.Millisecond); err == nil {
		t.Fatalf("%s: out of charon's tunnel after the expected datagrams: %v %q", step, from, b)
	}
	after := e.charonIn(t, out.SPI)
	t.Logf("%s: charon's inbound SA %08x counted %d -> %d packets (%d sealed by the test, 1 wrong-key control)", step, out.SPI, before, after, want)
	if after-before != want {
		t.Errorf("%s: charon's inbound SA %08x counted %d packets, want %d (the control must not count)", step, out.SPI, after-before, want)
	}
}

func TestInteropStrongSwanESP(t *testing.T) {
	needInterop(t)
	suites := []struct {
		f        family
		ike, esp string
	}{
		{fam6, "aes128-sha256-x25519", "aes128-sha256"},
		{fam6, "aes128-sha256-x25519", "aes128gcm16"},
		{fam6, "aes256gcm16-prfsha384-ecp256", "aes256gcm16"},
		{fam4, "aes128-sha256-ecp256", "aes256-sha1"},
	}
	for _, s := range suites {
		for _, ikInit := range []bool{true, false} {
			who := map[bool]string{true: "ikectx-initiates", false: "strongswan-initiates"}[ikInit]
			t.Run(s.f.name+"/"+s.esp+"/"+who, func(t *testing.T) {
				l := newLab(t, s.f)
				c := startCharon(t, l, s.ike, s.esp)
				k := startIked(t, l, s.ike, s.esp)
				e := &espLab{lab: l, c: c, k: k, swCur: netip.MustParseAddr(l.swAddr), ikCur: netip.MustParseAddr(l.ikAddr), sent: map[uint32]uint32{}}
				if ikInit {
					if _, err := k.ctl("initiate", "ikx"); err != nil {
						t.Fatalf("initiate: %v", err)
					}
				} else if out, err := c.Swanctl("--initiate", "--child", "net", "--ike", "ikx", "--timeout", "20"); err != nil {
					t.Fatalf("swanctl --initiate: %v\n%s", err, out)
				}
				_, ik := waitBoth(t, c, k, "IKE_SA_INIT + IKE_AUTH", established)
				e.crossESP(t, "after IKE_AUTH")

				old := ikChildRe.FindStringSubmatch(ik)
				if _, err := k.ctl("rekey-child", old[1]); err != nil {
					t.Fatalf("rekey-child: %v", err)
				}
				_, ik = waitBoth(t, c, k, "child rekey by ikectx", func(sw, ik string) bool {
					return established(sw, ik) && !strings.Contains(ik, old[1]) && !strings.Contains(sw, old[1])
				})
				e.crossESP(t, "after rekey by ikectx")

				old = ikChildRe.FindStringSubmatch(ik)
				if out, err := c.Swanctl("--rekey", "--child", "net"); err != nil {
					t.Fatalf("swanctl --rekey: %v\n%s", err, out)
				}
				_, ik = waitBoth(t, c, k, "child rekey by charon", func(sw, ik string) bool {
					return established(sw, ik) && !strings.Contains(ik, old[1]) && !strings.Contains(sw, old[1])
				})
				e.crossESP(t, "after rekey by charon")

				// MOBIKE by the original initiator. charon cannot update
				// libipsec's SAs in place, so it rekeys the child after
				// the address change: wait for that too.
				old = ikChildRe.FindStringSubmatch(ik)
				if ikInit {
					l.addAddr(t, l.ik, l.ikDev, l.ikAddr2)
					spi := ikSPIRe.FindStringSubmatch(ik)[1]
					if _, err := k.ctl("move", spi, l.ikAddr2, "-"); err != nil {
						t.Fatalf("move: %v", err)
					}
					waitBoth(t, c, k, "MOBIKE move by ikectx", func(sw, ik string) bool {
						return established(sw, ik) && strings.Contains(sw, l.ikAddr2+"[") && strings.Contains(ik, "local  "+hostPort(l.ikAddr2)+":") &&
							!strings.Contains(ik, old[1])
					})
					e.ikCur = netip.MustParseAddr(l.ikAddr2)
				} else {
					l.addAddr(t, l.sw, l.swDev, l.swAddr2)
					sh(t, "ip", "-n", l.sw, "addr", "del", l.swAddr+l.plen, "dev", l.swDev)
					waitBoth(t, c, k, "MOBIKE move by charon", func(sw, ik string) bool {
						return established(sw, ik) && strings.Contains(ik, "remote "+hostPort(l.swAddr2)+":") && strings.Contains(sw, l.swAddr2+"[") &&
							!strings.Contains(ik, old[1])
					})
					e.swCur = netip.MustParseAddr(l.swAddr2)
				}
				e.crossESP(t, "after MOBIKE")
				t.Logf("charon -> iked: %d ESP packets, %d frame bytes opened with iked's keys over 4 steps", e.packetsOut, e.bytesOut)
			})
		}
	}
}
