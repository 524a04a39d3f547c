package setkey

import (
	"context"
	"errors"
	"iter"
	"strings"
	"syscall"
	"testing"

	"github.com/ikectx/ikectx/pfkey"
)

// fakeKernel is an in-memory SAD/SPD behind the wire codec: every request
// is marshalled and unmarshalled as the kernel would read it.
type fakeKernel struct {
	d    *pfkey.Dialect
	sad  []*pfkey.Message
	spd  []*pfkey.Message
	sent []pfkey.MsgType
}

func (k *fakeKernel) Dialect() *pfkey.Dialect { return k.d }

func (k *fakeKernel) wire(m *pfkey.Message) *pfkey.Message {
	b, err := k.d.Marshal(m)
	if err != nil {
		panic(err)
	}
	r, err := k.d.Unmarshal(b)
	if err != nil {
		panic(err)
	}
	return r
}

func sameSA(a, b *pfkey.Message) bool {
	return a.SAType == b.SAType && a.SA.SPI == b.SA.SPI && a.Dst.Addr.Addr() == b.Dst.Addr.Addr()
}

func sameSP(a, b *pfkey.Message) bool {
	return a.Policy.Dir == b.Policy.Dir && *a.Src == *b.Src && *a.Dst == *b.Dst
}

func errno(req *pfkey.Message, e syscall.Errno) error {
	return &pfkey.Error{Type: req.Type, SAType: req.SAType, What: pfkey.Describe(req), Errno: e}
}

func (k *fakeKernel) Do(ctx context.Context, req *pfkey.Message) (*pfkey.Message, error) {
	m := k.wire(req)
	k.sent = append(k.sent, m.Type)
	switch m.Type {
	case pfkey.MsgAdd:
		for _, s := range k.sad {
			if sameSA(s, m) {
				return nil, errno(req, syscall.EEXIST)
			}
		}
		m.SA.State = pfkey.SAStateMature
		m.LifetimeCurrent = &pfkey.Lifetime{}
		k.sad = append(k.sad, m)
		return k.wire(m), nil
	case pfkey.MsgGet, pfkey.MsgDelete:
		for i, s := range k.sad {
			if sameSA(s, m) {
				if m.Type == pfkey.MsgDelete {
					k.sad = append(k.sad[:i], k.sad[i+1:]...)
				}
				return k.wire(s), nil
			}
		}
		return nil, errno(req, syscall.ESRCH)
	case pfkey.MsgFlush:
		var keep []*pfkey.Message
		for _, s := range k.sad {
			if m.SAType != pfkey.SATypeUnspec && s.SAType != m.SAType {
				keep = append(keep, s)
			}
		}
		k.sad = keep
		return m, nil
	case pfkey.MsgXSPDAdd, pfkey.MsgXSPDUpdate:
		for i, s := range k.spd {
			if sameSP(s, m) {
				if m.Type == pfkey.MsgXSPDAdd {
					return nil, errno(req, syscall.EEXIST)
				}
				k.spd[i] = m
				return m, nil
			}
		}
		m.Policy.ID = uint32(len(k.spd)*8 + 1)
		k.spd = append(k.spd, m)
		return m, nil
	case pfkey.MsgXSPDDelete:
		for i, s := range k.spd {
			if sameSP(s, m) {
				k.spd = append(k.spd[:i], k.spd[i+1:]...)
				return m, nil
			}
		}
		return nil, errno(req, syscall.ENOENT)
	case pfkey.MsgXSPDFlush:
		k.spd = nil
		return m, nil
	}
	return nil, errno(req, syscall.EINVAL)
}

func (k *fakeKernel) DoMulti(ctx context.Context, req *pfkey.Message) iter.Seq2[*pfkey.Message, error] {
	m := k.wire(req)
	k.sent = append(k.sent, m.Type)
	return func(yield func(*pfkey.Message, error) bool) {
		var list []*pfkey.Message
		if m.Type == pfkey.MsgXSPDDump {
			list = k.spd
		} else {
			for _, s := range k.sad {
				if m.SAType == pfkey.SATypeUnspec || s.SAType == m.SAType {
					list = append(list, s)
				}
			}
		}
		for i, s := range list {
			r := k.wire(s)
			r.Type, r.Seq, r.PID = m.Type, uint32(len(list)-1-i), 99
			if !yield(r, nil) {
				return
			}
		}
	}
}

func TestRunAgainstFakeKernel(t *testing.T) {
	src := `flush; spdflush;
add 2001:db8::1 2001:db8::2 esp 0x1000 -m tunnel -E aes-cbc 0x00112233445566778899aabbccddeeff -A hmac-sha1 "01234567890123456789";
add 2001:db8::2 2001:db8::1 esp 0x1001 -m tunnel -E aes-cbc 0x00112233445566778899aabbccddeeff -A hmac-sha1 "01234567890123456789";
spdadd 2001:db8:a::/64 2001:db8:b::/64 any -P out ipsec esp/tunnel/2001:db8::1-2001:db8::2/require;
get 2001:db8::1 2001:db8::2 esp 0x1000;
dump esp;
spddump;
`
	for _, d := range []*pfkey.Dialect{pfkey.Linux, pfkey.FreeBSD} {
		k := &fakeKernel{d: d}
		sc, err := Parse("run.conf", []byte(src), &Options{Resolve: noResolve})
		if err != nil {
			t.Fatal(err)
		}
		var out, vb strings.Builder
		if err := Run(context.Background(), k, sc, RunOptions{Out: &out, Verbose: &vb}); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if len(k.sad) != 2 || len(k.spd) != 1 {
			t.Fatalf("%s: %d SAs, %d policies", d, len(k.sad), len(k.spd))
		}
		o := out.String()
		for _, want := range []string{
			"2001:db8::1 2001:db8::2 \n\tesp mode=tunnel spi=4096(0x00001000) reqid=0(0x00000000)\n\tE: aes-cbc  00112233 44556677 8899aabb ccddeeff\n\tA: hmac-sha1  30313233",
			"2001:db8::2 2001:db8::1 \n\tesp mode=tunnel spi=4097(0x00001001)",
			"2001:db8:a::/64[any] 2001:db8:b::/64[any] any\n\tout",
			"esp/tunnel/2001:db8::1-2001:db8::2/require\n",
		} {
			if !strings.Contains(o, want) {
				t.Errorf("%s: output lacks %q:\n%s", d, want, o)
			}
		}
		if strings.Contains(vb.String(), "0011223344") || strings.Contains(vb.String(), "30313233") {
			t.Errorf("verbose output shows key bytes:\n%s", vb.String())
		}
		if !strings.Contains(vb.String(), ">> SADB_ADD esp 2001:db8::1->2001:db8::2 spi 0x1000") {
			t.Errorf("verbose output:\n%s", vb.String())
		}
	}
}

// A refused statement is reported with its place; the rest still runs.
func TestRunKernelErrors(t *testing.T) {
	src := "add ::1 ::2 esp 7 -E null;\nadd ::1 ::2 esp 7 -E null;\nspddelete ::1 ::2 any -P out;\nadd ::1 ::2 esp 8 -E null;\n"
	k := &fakeKernel{d: pfkey.Linux}
	sc, err := Parse("e.conf", []byte(src), &Options{Resolve: noResolve})
	if err != nil {
		t.Fatal(err)
	}
	err = Run(context.Background(), k, sc, RunOptions{})
	var re *RunError
	if !errors.As(err, &re) || len(re.Errs) != 2 {
		t.Fatalf("got %v", err)
	}
	if !strings.HasPrefix(re.Errs[0].Error(), "e.conf:2:1: add: pfkey: SADB_ADD esp ::1->::2 spi 0x7: file exists") {
		t.Errorf("first error: %v", re.Errs[0])
	}
	if !strings.HasPrefix(re.Errs[1].Error(), "e.conf:3:1: spddelete: pfkey: SADB_X_SPDDELETE") || !errors.Is(re.Errs[1], syscall.ENOENT) {
		t.Errorf("second error: %v", re.Errs[1])
	}
	if !errors.Is(err, syscall.EEXIST) {
		t.Errorf("the run error does not unwrap to EEXIST")
	}
	if len(k.sad) != 2 {
		t.Errorf("%d SAs after the errors, want 2", len(k.sad))
	}
}

// A script that does not build sends nothing.
func TestRunNothingSentOnBuildError(t *testing.T) {
	src := "flush;\nadd ::1 ::2 ah 7 -A keyed-md5 \"0123456789abcdef\";\n"
	k := &fakeKernel{d: pfkey.Linux}
	sc, err := Parse("b.conf", []byte(src), &Options{Resolve: noResolve})
	if err != nil {
		t.Fatal(err)
	}
	err = Run(context.Background(), k, sc, RunOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "b.conf:2:21: authentication algorithm keyed-md5 is not supported by linux's PF_KEY") {
		t.Fatalf("got %v", err)
	}
	if len(k.sent) != 0 {
		t.Errorf("sent %v", k.sent)
	}
}

func TestDeleteAllEmulation(t *testing.T) {
	src := "add ::1 ::2 esp 7 -E null; add ::1 ::2 esp 8 -E null; add ::1 ::3 esp 9 -E null;\ndeleteall ::1 ::2 esp;\n"
	k := &fakeKernel{d: pfkey.Linux}
	sc, err := Parse("d.conf", []byte(src), &Options{Resolve: noResolve})
	if err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), k, sc, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(k.sad) != 1 || k.sad[0].SA.SPI != 9 {
		t.Errorf("left %d SAs", len(k.sad))
	}
}
