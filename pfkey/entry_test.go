package pfkey

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func sampleSA() *SAEntry {
	return &SAEntry{
		Type: SATypeESP, SPI: 0x1000, Src: a1, Dst: a2, Mode: ModeTunnel, ReqID: 7, Replay: 32,
		State: SAStateMature, Auth: AuthSHA1HMAC, Enc: EncAESCBC,
		Keys: Keys{Auth: append([]byte(nil), authK...), Enc: append([]byte(nil), encK...)},
		Hard: &Lifetime{AddTime: 3600}, Soft: &Lifetime{AddTime: 2880},
		NATT: &NATT{Type: 2, SPort: 4500, DPort: 4500, OAI: v4src},
	}
}

func TestSAEntryMessageRoundTrip(t *testing.T) {
	for _, d := range []*Dialect{linuxLE, freebsdLE} {
		e := sampleSA()
		m := e.Message(MsgAdd)
		b, err := d.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		back, err := d.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := SAEntryFrom(back)
		if err != nil {
			t.Fatal(err)
		}
		want := e.Clone()
		want.Proto = ProtoAny
		want.Keys.AuthBits, want.Keys.EncBits = 160, 128
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", d, got, want)
		}
		// the message's keys are copies
		m.Wipe()
		if e.Keys.Auth[0] == 0 {
			t.Error("wiping the message wiped the entry")
		}
	}
}

func TestSAEntryStringHidesKeys(t *testing.T) {
	e := sampleSA()
	s := e.String()
	if strings.Contains(s, string(authK)) || strings.Contains(s, string(encK)) || strings.Contains(s, "3031") {
		t.Errorf("String shows keys: %s", s)
	}
	if !strings.Contains(s, "spi 0x1000") || !strings.Contains(s, "160 bits") {
		t.Errorf("String = %s", s)
	}
	e.Wipe()
	for _, b := range append(e.Keys.Auth, e.Keys.Enc...) {
		if b != 0 {
			t.Fatal("not wiped")
		}
	}
}

func TestPolicyEntry(t *testing.T) {
	p := &PolicyEntry{Src: net1, Dst: net2, Proto: ProtoAny, Dir: DirOutbound, Type: PolicyIPsec,
		Requests: []IPSecRequest{{Proto: ProtoESP, Mode: ModeTunnel, Level: LevelRequire,
			Src: netip.AddrPortFrom(a1, 0), Dst: netip.AddrPortFrom(a2, 0)}}}
	m := p.Message(MsgXSPDAdd)
	if !reflect.DeepEqual(m, spdAddMessage().withoutHeader()) {
		t.Errorf("message %+v", m)
	}
	back, err := PolicyEntryFrom(m)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, p) {
		t.Errorf("back %+v", back)
	}
	if !p.Involves(netip.MustParseAddr("2001:db8:1::5")) || !p.Involves(a1) || p.Involves(netip.MustParseAddr("2001:db8:3::1")) {
		t.Error("Involves")
	}
	if p.InvolvesHost(netip.MustParseAddr("2001:db8:1::5")) || !p.InvolvesHost(a2) {
		t.Error("InvolvesHost")
	}
	want := "2001:db8:1::/64[any] 2001:db8:2::/64[any] any -P out ipsec esp/tunnel/2001:db8::1-2001:db8::2/require"
	if p.String() != want {
		t.Errorf("String\n got %s\nwant %s", p, want)
	}
	if d := p.Message(MsgXSPDDelete); d.Policy.Requests != nil {
		t.Error("SPDDELETE carries requests")
	}
}

func (m *Message) withoutHeader() *Message {
	m.Seq, m.PID = 0, 0
	return m
}

func TestErrorNamesMessage(t *testing.T) {
	req := addMessage()
	err := replyError(req, &Message{Errno: uint8(syscall.EEXIST)})
	want := "pfkey: SADB_ADD esp 2001:db8::1->2001:db8::2 spi 0x1000: file exists"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if !errors.Is(err, syscall.EEXIST) {
		t.Error("errors.Is EEXIST")
	}
	err = replyError(spdAddMessage(), &Message{Errno: uint8(syscall.EINVAL)})
	want = "pfkey: SADB_X_SPDADD 2001:db8:1::/64->2001:db8:2::/64 out: invalid argument"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if replyError(req, &Message{}) != nil {
		t.Error("errno 0 is an error")
	}
}
