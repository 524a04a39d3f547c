package engine

import (
	"testing"

	"github.com/ikectx/ikectx/cxtp"
)

// FuzzARHandle feeds arbitrary bytes to both receive paths of an AR that
// holds a stored context: nothing may panic, and a forged input may never
// activate the context (the key is unknown to the fuzzer's inputs except
// by the seeded valid CTAR, which is excluded below).
func FuzzARHandle(f *testing.F) {
	pctd, _ := cxtp.Marshal(&cxtp.PCTD{PrevCoA: aMN, Algorithm: cxtp.AlgHMACSHA1, Key: key,
		CDBs: []cxtp.CDB{{FPT: fptA, Data: frame([]byte("ctx"))}}})
	f.Add(pctd, true)
	f.Add(ctar(1, []byte("wrong-key-wrong-key!"), aPARx), false)
	for _, m := range []cxtp.Message{&cxtp.CTAA{PrevCoA: aMN}, &cxtp.CTD{PrevCoA: aMN}, &cxtp.CTDR{PrevCoA: aMN},
		&cxtp.CTC{PrevCoA: aMN}, &cxtp.CTReq{PrevCoA: aMN}} {
		b, _ := cxtp.Marshal(m)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, fromPeer bool) {
		w := newWorld(t)
		w.par.Trigger(aMN, aNAR)
		w.deliver(nil)
		if fromPeer {
			w.nar.HandleAR(aPAR, b)
			w.par.HandleAR(aNAR, b)
		} else {
			w.nar.HandleMN(aMN2, b)
			w.par.HandleMN(aMN, b)
		}
		w.deliver(nil)
		if w.hn.activeCount() != 0 {
			if m, err := cxtp.Parse(b); err == nil {
				if c, ok := m.(*cxtp.CTAR); ok && cxtp.VerifyToken(key, c.PrevCoA, c.Seq, requestedCDBs(c.FPTs), c.Token) {
					return // a genuinely valid CTAR (the fuzzer found the token)
				}
			}
			t.Fatalf("activated by %x", b)
		}
	})
}
