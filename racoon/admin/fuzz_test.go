package admin

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/ikectx/ikectx/pfkey"
)

// nopBackend accepts everything and returns fixed data.
type nopBackend struct{}

func (nopBackend) Phase1s() []Phase1Info {
	return []Phase1Info{{Local: netip.MustParseAddrPort("192.0.2.1:500"), Remote: netip.MustParseAddrPort("[fd00::2]:500")}}
}
func (nopBackend) SAs(pfkey.SAType) ([]*pfkey.SAEntry, error) { return testSAs(), nil }
func (nopBackend) FlushSA(Proto) error                        { return nil }
func (nopBackend) DeleteSA(Selector) error                    { return nil }
func (nopBackend) DeleteAllSADst(netip.Addr) error            { return nil }
func (nopBackend) EstablishSA(*EstablishRequest) error        { return nil }
func (nopBackend) ExportPhase1(Selector) (*Phase1Context, error) {
	return sampleContext(), nil
}
func (nopBackend) ImportPhase1(*Phase1Context, netip.AddrPort, netip.AddrPort) error { return nil }

func fuzzSeeds(f *testing.F) {
	for _, d := range []*pfkey.Dialect{pfkey.Linux, pfkey.FreeBSD} {
		x, _ := AppendIndexes(d, nil, &Indexes{PrefS: 32, PrefD: 32, Src: netip.MustParseAddrPort("[fd00::1]:500"), Dst: netip.MustParseAddrPort("192.0.2.2:0")})
		ctxb, _ := sampleContext().MarshalBinary()
		for _, r := range []*Request{
			{Cmd: CmdShowSA, Versioned: true, Version: 1, Proto: ProtoISAKMP},
			{Cmd: CmdShowSA, Versioned: true, Version: 1, Proto: ProtoESP},
			{Cmd: CmdDeleteSA, Versioned: true, Version: 1, Proto: ProtoISAKMP, Payload: x},
			{Cmd: CmdEstablishSA, Versioned: true, Proto: ProtoISAKMP, Payload: append(append([]byte(nil), x...), "gw\x00"...)},
			{Cmd: CmdEstablishSAPSK, Versioned: true, Proto: ProtoESP, Payload: AppendPSK(d, append([]byte(nil), x...), &PSK{IDType: 3, ID: []byte("a\x00"), Key: Secret("k\x00")})},
			{Cmd: CmdExportPh1, Versioned: true, Version: 1, Proto: ProtoISAKMP, Payload: x},
			{Cmd: CmdImportPh1, Versioned: true, Version: 1, Proto: ProtoISAKMP, Payload: append(append([]byte(nil), x...), ctxb...)},
			{Cmd: CmdGetSACert, Proto: ProtoISAKMP, Payload: x},
		} {
			b, _ := AppendRequest(d, nil, r)
			f.Add(d == pfkey.FreeBSD, b)
		}
	}
}

// FuzzRequest runs every request through the server's dispatcher with a
// backend that accepts everything: no input may panic (the dispatcher's
// recover is disabled by checking the answer is not the panic errno).
func FuzzRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, bsd bool, b []byte) {
		d := pfkey.Linux
		if bsd {
			d = pfkey.FreeBSD
		}
		req, err := ParseRequest(d, b)
		if err != nil {
			return
		}
		logged := false
		s := &Server{cfg: ServerConfig{Backend: nopBackend{}, MayExport: func(PeerCred) bool { return true },
			Logf: func(format string, args ...any) {
				if bytes.Contains([]byte(format), []byte("panic")) {
					logged = true
				}
			}}, d: d}
		a := s.process(nil, req)
		if logged {
			t.Fatalf("dispatcher panicked on % x", b)
		}
		if _, err := AppendReply(d, nil, &Reply{Cmd: req.Cmd, Proto: req.Proto, Errno: a.errno, Payload: a.payload}); err != nil && a.errno == 0 {
			t.Fatalf("reply: %v", err)
		}
		// Re-encoding a parsed request gives the same bytes.
		b2, err := AppendRequest(d, nil, req)
		if err != nil {
			t.Fatal(err)
		}
		if req.Versioned || bytes.Equal(b[4:6], []byte{0, 0}) {
			if !bytes.Equal(b, b2) {
				t.Fatalf("re-encoded % x, was % x", b2, b)
			}
		}
	})
}

// FuzzReply parses replies and their payloads as the client does.
func FuzzReply(f *testing.F) {
	ph1, _ := AppendPh1Dump(pfkey.Linux, nil, &Phase1Info{Remote: netip.MustParseAddrPort("[fd00::2]:500")})
	dump, _ := AppendSADump(pfkey.Linux, nil, pfkey.SATypeESP, testSAs(), 1, 2)
	ev, _ := AppendEvent(pfkey.Linux, nil, &Event{Type: EvtPhase2Up})
	ctxb, _ := sampleContext().MarshalBinary()
	for _, p := range [][]byte{ph1, dump, ev, ctxb, nil} {
		b, _ := AppendReply(pfkey.Linux, nil, &Reply{Cmd: CmdShowSA, Proto: ProtoISAKMP, Payload: p})
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= HeaderLen {
			ReplyLen(pfkey.Linux, b)
		}
		r, err := ParseReply(pfkey.Linux, b)
		if err != nil {
			return
		}
		ParsePh1Dumps(pfkey.Linux, r.Payload)
		ParsePh1Dumps(pfkey.FreeBSD, r.Payload)
		ParseSADump(pfkey.Linux, r.Payload)
		ParseSADump(pfkey.FreeBSD, r.Payload)
		ParseEvent(pfkey.Linux, r.Payload)
		ParsePhase1Context(r.Payload)
		b2, err := AppendReply(pfkey.Linux, nil, r)
		if err == nil && len(b2) != len(b) {
			t.Fatalf("re-encoded length %d, was %d", len(b2), len(b))
		}
	})
}

// FuzzPhase1Context: decoding never panics, and what decodes re-encodes
// to the same bytes.
func FuzzPhase1Context(f *testing.F) {
	b, _ := sampleContext().MarshalBinary()
	f.Add(b)
	empty, _ := (&Phase1Context{}).MarshalBinary()
	f.Add(empty)
	f.Fuzz(func(t *testing.T, b []byte) {
		pc, err := ParsePhase1Context(b)
		if err != nil {
			return
		}
		b2, err := pc.MarshalBinary()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(b, b2) {
			t.Fatalf("re-encoded\n% x\nwas\n% x", b2, b)
		}
	})
}
