package ike

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ikectx/ikectx/racoon/isakmp"
)

// racoonLog reads side A's racoon debug log out of a vectors file in
// shared/vectors/racoon-0.8.2 (beside the repository); the test is skipped
// when the directory is absent.
func racoonLog(t *testing.T, name string) []string {
	t.Helper()
	dir, _ := os.Getwd()
	for i := 0; i < 6; i++ {
		for _, c := range []string{filepath.Join(dir, "shared"), filepath.Join(dir, "..", "shared")} {
			p := filepath.Join(c, "vectors", "racoon-0.8.2", name)
			if f, err := os.Open(p); err == nil {
				defer f.Close()
				var lines []string
				in := false
				sc := bufio.NewScanner(f)
				sc.Buffer(make([]byte, 1<<20), 1<<20)
				for sc.Scan() {
					l := sc.Text()
					if strings.HasPrefix(l, "===== ") {
						in = l == "===== racoon-A.log"
						continue
					}
					if in {
						lines = append(lines, l)
					}
				}
				return lines
			}
		}
		dir = filepath.Dir(dir)
	}
	t.Skip("shared/vectors/racoon-0.8.2 not found beside the repository")
	return nil
}

var hexLine = regexp.MustCompile(`^[0-9a-f]{2,8}( [0-9a-f]{2,8})*$`)

// hexAfter returns the hex block that follows the first line containing
// marker at or after *pos, and moves *pos past it.
func hexAfter(t *testing.T, lines []string, pos *int, marker string) []byte {
	t.Helper()
	for i := *pos; i < len(lines); i++ {
		if !strings.Contains(lines[i], marker) {
			continue
		}
		j := i + 1
		for j < len(lines) && !hexLine.MatchString(strings.TrimSpace(lines[j])) {
			j++
		}
		var sb strings.Builder
		for ; j < len(lines) && hexLine.MatchString(strings.TrimSpace(lines[j])); j++ {
			sb.WriteString(strings.ReplaceAll(strings.TrimSpace(lines[j]), " ", ""))
		}
		b, err := hex.DecodeString(sb.String())
		if err != nil {
			t.Fatalf("%s: %v", marker, err)
		}
		*pos = j
		return b
	}
	t.Fatalf("%q not found in the log", marker)
	return nil
}

// TestRacoonAggressiveVectors replays side A (initiator) of the real racoon
// aggressive-mode run: DH, key schedule, HASH_R of message 2, HASH_I of the
// plaintext message 3, and a quick mode whose IV derives from the phase-1 IV
// (message 3 is not encrypted, so no CBC block chains the phase-1 IV).
func TestRacoonAggressiveVectors(t *testing.T) {
	lines := racoonLog(t, "aggr-transport.log")
	pos := 0
	priv := hexAfter(t, lines, &pos, "compute DH's private.")
	pub := hexAfter(t, lines, &pos, "compute DH's public.")
	m1 := hexAfter(t, lines, &pos, "1 times of 276 bytes message will be sent")
	m2 := hexAfter(t, lines, &pos, "300 bytes message received")
	shared := hexAfter(t, lines, &pos, "compute DH's shared.")
	skeyid := hexAfter(t, lines, &pos, "SKEYID computed:")
	skeyidD := hexAfter(t, lines, &pos, "SKEYID_d computed:")
	skeyidA := hexAfter(t, lines, &pos, "SKEYID_a computed:")
	skeyidE := hexAfter(t, lines, &pos, "SKEYID_e computed:")
	enc := hexAfter(t, lines, &pos, "final encryption key computed:")
	iv := hexAfter(t, lines, &pos, "IV computed:")
	m3 := hexAfter(t, lines, &pos, "1 times of 52 bytes message will be sent")
	q1 := hexAfter(t, lines, &pos, "1 times of 308 bytes message will be sent")

	g, _ := GroupByID(2)
	dh, err := NewDHPrivate(g, priv)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "g^xi", dh.Public, pub)
	msg1, err := isakmp.Parse(m1)
	if err != nil {
		t.Fatal(err)
	}
	msg2, err := isakmp.Parse(m2)
	if err != nil {
		t.Fatal(err)
	}
	var p1, p2 payloads = msg1.Payloads, msg2.Payloads
	eq(t, "KE in message 1", p1.get(isakmp.PayloadKE).(*isakmp.KE).Data, pub)
	gxr := p2.get(isakmp.PayloadKE).(*isakmp.KE).Data
	gxy, err := dh.Shared(gxr)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "g^xy", gxy, shared)
	prf, _ := NewPRF(isakmp.HashSHA)
	c, _ := NewCipher(isakmp.Enc3DES, 0)
	ci, cr := msg2.Header.InitiatorCookie, msg2.Header.ResponderCookie
	k := DeriveKeys(prf, c, skeyid, gxy, ci, cr)
	defer k.Wipe()
	eq(t, "SKEYID_d", k.D, skeyidD)
	eq(t, "SKEYID_a", k.A, skeyidA)
	eq(t, "SKEYID_e", k.E, skeyidE)
	eq(t, "Ka", k.Enc, enc)
	eq(t, "IV", Phase1IV(prf, c, pub, gxr), iv)
	sai := payloadBody(p1.get(isakmp.PayloadSA))
	idi := payloadBody(p1.get(isakmp.PayloadID))
	idr := payloadBody(p2.get(isakmp.PayloadID))
	eq(t, "HASH_R of message 2", HashR(prf, skeyid, pub, gxr, ci, cr, sai, idr), p2.get(isakmp.PayloadHash).(*isakmp.Hash).Data)
	msg3, err := isakmp.Parse(m3)
	if err != nil {
		t.Fatal(err)
	}
	if msg3.Header.Encrypted() {
		t.Fatal("racoon's aggressive message 3 was expected in the clear")
	}
	eq(t, "HASH_I of message 3", HashI(prf, skeyid, pub, gxr, ci, cr, sai, idi), payloads(msg3.Payloads).get(isakmp.PayloadHash).(*isakmp.Hash).Data)

	mid := binary.BigEndian.Uint32(q1[20:])
	pt, err := c.Decrypt(k.Enc, Phase2IV(prf, c, iv, mid), q1[28:])
	if err != nil {
		t.Fatal(err)
	}
	ps, _, err := isakmp.ParsePayloads(isakmp.PayloadHash, pt, 28, true)
	if err != nil {
		t.Fatalf("quick mode 1 does not decrypt with hash(phase-1 IV | M-ID): %v", err)
	}
	rest, _, _ := isakmp.AppendPayloads(nil, ps[1:])
	eq(t, "HASH(1)", QuickHash1(prf, k.A, mid, rest), ps[0].(*isakmp.Hash).Data)
}
