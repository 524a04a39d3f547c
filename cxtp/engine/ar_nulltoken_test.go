package engine

import (
	"bytes"
	"testing"

	"github.com/ikectx/ikectx/cxtp"
)

// TestNullTokenCTReq: a CT-Req with a null token (the nAR has no CTAR yet,
// RFC 4067 section 2.5.6) is answered with the token key (PCTD), and the
// MN's CTAR then activates the context on the nAR; over an unprotected
// channel the key is refused and the transfer cancelled.
func TestNullTokenCTReq(t *testing.T) {
	w := newWorld(t)
	req, _ := cxtp.Marshal(&cxtp.CTReq{PrevCoA: aMN, Seq: 0})
	w.par.HandleAR(aNAR, req)
	pctds := w.sent(cxtp.TypePCTD)
	if len(pctds) != 1 {
		t.Fatalf("%d PCTD for a null-token CT-Req", len(pctds))
	}
	if p := pctds[0].msg(t).(*cxtp.PCTD); !bytes.Equal(p.Key, key) || p.Algorithm != cxtp.AlgHMACSHA1 {
		t.Fatalf("PCTD without the token key: %v", p)
	}
	w.deliver(nil)
	var at result
	if err := w.mn.Attach(aNARx, aPARx, aMN, nil, at.cb); err != nil {
		t.Fatal(err)
	}
	w.deliver(nil)
	if r := at.one(t); r.Err != nil || w.hn.activeCount() != 1 {
		t.Fatalf("not activated after the null-token transfer: %+v", r)
	}

	w2 := newWorld(t, func(p, n *ARConfig) { p.Protection = ProtectedSet{} })
	w2.par.HandleAR(aNAR, req)
	if len(w2.sent(cxtp.TypePCTD)) != 0 || len(w2.sent(cxtp.TypeCTC)) != 1 || w2.par.Metrics().Rejected[ReasonUnprotected] != 1 {
		t.Fatalf("null-token CT-Req over an unprotected channel: %+v", w2.par.Metrics())
	}
}
