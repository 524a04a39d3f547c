package ike

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ikectx/ikectx/racoon/isakmp"
)

// Values from ../../../shared/vectors/racoon-0.8.2/main-tunnel.log, side A
// (fd00::1, initiator): real racoon 0.8.2, 3des/sha1/modp1024, PFS 2.
func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	vPrivA = `371530d0 2ec0bd06 757a24b4 44335a62 46002f95 d8747da9 05e92ea1 2a965432
9cb6bc37 3b05e617 bcdf2f69 c4ba744d 36f45368 8b51af29 6f3c024a 09e29b0c
5943c5a2 e4930057 18e53d91 1656a711 616887e1 14d33133 b23b9935 1d16832f
d192fe0d 265481e6 dfb3e701 1667d331 70bc2c91 823b9c65 e840200e d099585b`
	vPubA = `e4f32500 cfc8c10c 640ef5b3 5c62d06c eb07d80e 25ecf4e7 afc2ca2f e4825d7a
3aa70b2b 54546854 0830f1e6 a7751ee5 60208a91 9fd1a5b8 832e97a9 8b37036f
0e6bdc13 7611a408 6c00ad1f 25b891db d2ea453b ec1fc568 f36ead54 62319329
b9602869 c5eecbc7 b2106d28 000b0f88 d4bb8a85 66af87ff 27ddc568 9b329d98`
	vPubB = `a4ef2a7b 6e0957f7 b5cdb68f bbeebc4e ef89d1ff 671a2ffc ff3473f5 86a8c54f
65e90b14 3349dcef 4b056d64 492401fd 145c94b1 1e2e86ca de82f38d 63ff79d7
6549e1f4 5283504b e4d8f13c 25e5ed9e f75ac5f8 87dce9b1 2e2f2ad2 038ea95d
d830f19f 0e927ea3 c566605d a0e4fb82 6344cd2c 78b7c0bc fe7090a9 762a4825`
	vShared = `15b1fd12 e7355610 91bdd7af baa6f619 cf86ff21 6884179d 995a6a45 bfc74a36
b7ebb0c5 0bd314e2 f637b38d 9510695d 3592831f 365e65bb ae01d2a1 ce6e75e5
f5e6fbea 02699fca eae70bc2 17885e70 ed195bc2 eefe76da 8cba14df b7159ace
b9059f90 b256fa74 ee775045 b3b6688a a3de1ff2 d2b82f7c 6523d9ba 06029384`
	vNi      = `afe9c880 2a7d1245 3faad7cb f9d46ace`
	vNr      = `c4bbbc45 9e211ccd d55481af ca5039b1`
	vSKEYID  = `4a0b9d36 6da91d86 720331f8 e2b8e071 3290f26e`
	vD       = `445fb887 8a568a8a 01903829 7d03280a 7ae03bb6`
	vA       = `0f7fd714 66e8b237 d990fb35 4a03eea3 8b4ca0e2`
	vE       = `1df65856 04c35126 6ade24c4 0d4b6a92 b1e13870`
	vEnc     = `4fe612b5 5b35d041 2414ef02 0b2ae013 7963caac cfdf39fe`
	vIV      = `c87b4f94 543d68be`
	vSAi     = `00000001 00000001 00000028 01010001 00000020 01010000 800b0001 800c7080 80010005 80030001 80020002 80040002`
	vIDii    = `051101f4 fd000000 00000000 00000000 00000001`
	vHashI   = `82dda549 2e118c5f 0594906d 65c1c3db a1ff3d6a`
	vCookies = `d9d91984 84a2f7e6 519b7a1f 76df897b`
	// message 5 as sent, and message 6 as received
	vMsg5 = `d9d91984 84a2f7e6 519b7a1f 76df897b 05100201 00000000 00000054 132d6b06
43dd3025 b04aeefc 5795d6ff 4a6d6726 de61f12b 17060029 eed06dca cad6209e
6f08f292 516d0ce3 3dcc9211 0a1be610 3bf768bb`
	vMsg6 = `d9d91984 84a2f7e6 519b7a1f 76df897b 05100201 00000000 00000054 b984330f
4e007985 381a09d1 dd19e47d fde556ad f14427fb 358556d8 8b5e8e60 46e1190b
7f155dcd ef2b0e95 ca351159 0b894880 5a08b939`
	vHashR = `d0cc2762 91bd2440 01ebc893 bcd0fa1f ba16b919`
	// the informational INITIAL-CONTACT received from B
	vInfo = `d9d91984 84a2f7e6 519b7a1f 76df897b 08100501 c4137f79 00000054 460377a3
b394d991 a20bc2f5 d7f8d79d 1c2d3fec 2d5deb9f 4e75b17f 7bed09a7 7d945f0f
70700914 3da4125f 0ab6d79f 743bd109 0dddc8a1`
	vInfoIV = `15117ea9 d096e547`
	// quick mode, message 1 sent by A
	vQM1 = `d9d91984 84a2f7e6 519b7a1f 76df897b 08102001 84401217 00000154 1a6090f4
6a698a41 fcbdb77d f461574c e93126e3 daab9f32 a1c7d5bd d3d6b0c8 da9ebb23
5c9c409d c2b11652 bb44ede8 ec6cec2d 809123bd b7b6fe38 b6ea8b70 4473ac6a
9b695564 87eb88e4 7296d5c2 767c25dc 95fbe1e1 c587d3bd be0fa57b 94ce9932
4376ef53 7488ee6c 2566c03a fac618a2 e03075a8 a5567522 3910639a 35c20b7a
64b7f0a7 95f2ef0e 8b176dda 88883166 0cbe273a 31f5253e 310f08d6 ed8a30d7
b02ca168 915bd6e6 f8707c6f 7d8b1cca 210d10ad 9ee81f90 9d0aed5c ea8852b7
44607320 e2fe50e2 ed2af0b9 d53c3fd8 95c27fd5 b96f70dc c4bb518b 9a12eb4e
628deea3 f6541c92 e17b3454 e6df5f4f e9db7349 b29bc364 458b2083 510710f5
18c8f4e4 586f2f9c e8826247 3604f83b 15c0f2da 5840fcb7 1fe545a1 1dbe229f
14f166e8 84e7ebf8 42b7adb7 11691ea3 bb747247`
	vQM2 = `d9d91984 84a2f7e6 519b7a1f 76df897b 08102001 84401217 00000154 69cc0bb3
c1bb0623 d37dbb09 a3025612 47ad08f1 ef02ee73 4ad05724 89e5fafa ee1a6222
72b7e4ce af5d37db 4c96f1a9 be179d36 4df2b317 57e074bc 92f95595 57073552
90577c75 172299cb 7b3abddc 46a32338 36d8e5d4 f39dad8c a3ab2d85 a7b1e304
af31b47e ffe8ad10 4334a0bd 1c815b62 97183ab5 dc436dca 8ed71bae a2a91729
4f428584 efce9596 7f88f1f7 134f378a 7195e4b7 cd3994c3 cb1d12b2 1ddce301
29947e29 a676e0da afbcd19d 0f563a87 968681e6 0d5aca1e 645b72fc b0befa2d
68e208b4 723242a1 df10b30d 2be648c6 38dfdcbc 9f0c276f 4facaf95 b5ed39d5
754d09a6 bec59087 6721db4a 4dc3d20f e829f02d 9e11db2f 8fd8cf90 ca97c12c
6764c9e9 12308ddf d799730d 6fed896c ac78c4eb 2880d13a e3f73f10 56114b72
e1532eb4 58f87e89 f6984ef5 b52230c5 a2944490`
	vQM3 = `d9d91984 84a2f7e6 519b7a1f 76df897b 08102001 84401217 0000003c 3b2bc920
45f6f1a5 5f7c269f 143051f9 dd122f45 01935dc0 61c2a014 b6d4a63a`
	vQMIV     = `18306e8a 4d6e03b6`
	vQMHash1  = `6b9890cd 2e38d0a5 70449e72 87cf47c2 4644e4b7`
	vQMHash2  = `c4dd37e4 24c77d68 d1b54551 2aeef43f 14c1447d`
	vQMHash3  = `7ce87d1a 8263dabf a29edcea 71af1c6e 8d26b4d9`
	vQMShared = `c2d0eca8 d895310e 94e813f4 b6b18acc 755ce5c0 6ddf5619 5f4a41ab c81caff8
e97ede60 68d4fe5c 58170123 182cc24b 8c712d94 a84b2b78 6092ae71 395facba
df85f160 1fcfb63f 6ed80f1b 229d7985 80c03621 ce869e26 3e82ca2d edf9b646
b185a3e8 075e55d2 fbece100 ad82c162 6d26e538 51ec0962 843f4d1d c3887de2`
	vKeymatIn = `846e3d82 c9ce4688 f5003e0f ad717246 c3357dc9 f82f671d 8e74b068 7abd4723
5684aabb 5045c512 59b97fc9 799b6b60 975af74e a8e48b3c b7d5b9ac 1ee0164c
df775c5d 4807aa6f ff0256f8 7d89d08a`
	vKeymatOut = `a8acdfb0 e8c3f71b 967672c5 b93cdd2f a213d1b9 8a3a14d3 44bf520c 868591c7
f255bf52 38bb6444 436abdbe dc7478ce a063b249 1ab29df8 84e1e0c9 59a14a9a
5c96c222 e15f8578 2d8cc005 212a3abd`
)

func eq(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s:\n got %x\nwant %x", what, got, want)
	}
}

func TestRacoonMainModeVectors(t *testing.T) {
	g, err := GroupByID(2)
	if err != nil {
		t.Fatal(err)
	}
	dh, err := NewDHPrivate(g, hx(t, vPrivA))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "g^xi", dh.Public, hx(t, vPubA))
	shared, err := dh.Shared(hx(t, vPubB))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "g^xy", shared, hx(t, vShared))

	prf, _ := NewPRF(isakmp.HashSHA)
	c, _ := NewCipher(isakmp.Enc3DES, 0)
	var ci, cr [8]byte
	ck := hx(t, vCookies)
	copy(ci[:], ck[:8])
	copy(cr[:], ck[8:])
	// The PSK is not in the log: start from the logged SKEYID.
	k := DeriveKeys(prf, c, hx(t, vSKEYID), shared, ci, cr)
	defer k.Wipe()
	eq(t, "SKEYID_d", k.D, hx(t, vD))
	eq(t, "SKEYID_a", k.A, hx(t, vA))
	eq(t, "SKEYID_e", k.E, hx(t, vE))
	eq(t, "Ka", k.Enc, hx(t, vEnc))
	iv := Phase1IV(prf, c, hx(t, vPubA), hx(t, vPubB))
	eq(t, "phase-1 IV", iv, hx(t, vIV))
	hi := HashI(prf, k.SKEYID, hx(t, vPubA), hx(t, vPubB), ci, cr, hx(t, vSAi), hx(t, vIDii))
	eq(t, "HASH_I", hi, hx(t, vHashI))

	// decrypt message 5 (our own) and 6 (the responder's), chaining the IV
	m5 := hx(t, vMsg5)
	pt, err := c.Decrypt(k.Enc, iv, m5[28:])
	if err != nil {
		t.Fatal(err)
	}
	ps, _, err := isakmp.ParsePayloads(isakmp.PayloadID, pt, 28, true)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "msg5 HASH_I", ps[1].(*isakmp.Hash).Data, hx(t, vHashI))
	// re-encrypting gives the same ciphertext except the random padding:
	// check the first blocks.
	re, _ := c.Encrypt(k.Enc, iv, pt[:len(pt)-8])
	eq(t, "msg5 first blocks", re[:32], m5[28:60])

	iv = m5[len(m5)-8:]
	m6 := hx(t, vMsg6)
	pt, err = c.Decrypt(k.Enc, iv, m6[28:])
	if err != nil {
		t.Fatal(err)
	}
	ps, _, err = isakmp.ParsePayloads(isakmp.PayloadID, pt, 28, true)
	if err != nil {
		t.Fatal(err)
	}
	idr := ps[0].(*isakmp.ID)
	idrb, _ := idr.AppendBody(nil)
	hr := HashR(prf, k.SKEYID, hx(t, vPubA), hx(t, vPubB), ci, cr, hx(t, vSAi), idrb)
	eq(t, "HASH_R", hr, hx(t, vHashR))
	eq(t, "msg6 HASH_R", ps[1].(*isakmp.Hash).Data, hr)
	lastIV := m6[len(m6)-8:]

	// informational from B: its own phase-2 IV from the message ID
	info := hx(t, vInfo)
	mid := binary.BigEndian.Uint32(info[20:])
	iiv := Phase2IV(prf, c, lastIV, mid)
	eq(t, "informational IV", iiv, hx(t, vInfoIV))
	pt, err = c.Decrypt(k.Enc, iiv, info[28:])
	if err != nil {
		t.Fatal(err)
	}
	ps, _, err = isakmp.ParsePayloads(isakmp.PayloadHash, pt, 28, true)
	if err != nil {
		t.Fatal(err)
	}
	n := ps[1].(*isakmp.Notification)
	if n.Type != isakmp.InitialContact {
		t.Fatalf("notify %v", n.Type)
	}
	nb, _, _ := isakmp.AppendPayloads(nil, ps[1:])
	eq(t, "informational HASH(1)", InfoHash(prf, k.A, mid, nb), ps[0].(*isakmp.Hash).Data)

	// quick mode
	q1 := hx(t, vQM1)
	qmid := binary.BigEndian.Uint32(q1[20:])
	qiv := Phase2IV(prf, c, lastIV, qmid)
	eq(t, "quick-mode IV", qiv, hx(t, vQMIV))
	pt, err = c.Decrypt(k.Enc, qiv, q1[28:])
	if err != nil {
		t.Fatal(err)
	}
	ps1, _, err := isakmp.ParsePayloads(isakmp.PayloadHash, pt, 28, true)
	if err != nil {
		t.Fatal(err)
	}
	rest1, _, _ := isakmp.AppendPayloads(nil, ps1[1:])
	eq(t, "HASH(1)", QuickHash1(prf, k.A, qmid, rest1), hx(t, vQMHash1))
	q2 := hx(t, vQM2)
	pt, err = c.Decrypt(k.Enc, q1[len(q1)-8:], q2[28:])
	if err != nil {
		t.Fatal(err)
	}
	ps2, _, err := isakmp.ParsePayloads(isakmp.PayloadHash, pt, 28, true)
	if err != nil {
		t.Fatal(err)
	}
	ni := ps1[2].(*isakmp.Nonce).Data
	nr := ps2[2].(*isakmp.Nonce).Data
	rest2, _, _ := isakmp.AppendPayloads(nil, ps2[1:])
	eq(t, "HASH(2)", QuickHash2(prf, k.A, qmid, ni, rest2), hx(t, vQMHash2))
	eq(t, "HASH(2) in message", ps2[0].(*isakmp.Hash).Data, hx(t, vQMHash2))
	q3 := hx(t, vQM3)
	pt, err = c.Decrypt(k.Enc, q2[len(q2)-8:], q3[28:])
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "HASH(3)", pt[4:24], QuickHash3(prf, k.A, qmid, ni, nr))
	eq(t, "HASH(3) logged", pt[4:24], hx(t, vQMHash3))

	// PFS: A's quick-mode DH private is in the log too; check g(qm)^xy via
	// KEYMAT directly from the logged shared value.
	gqm := hx(t, vQMShared)
	spiIn := binary.BigEndian.Uint32(ps1[1].(*isakmp.SA).Proposals[0].SPI)
	spiOut := binary.BigEndian.Uint32(ps2[1].(*isakmp.SA).Proposals[0].SPI)
	eq(t, "KEYMAT in", KEYMAT(prf, k.D, gqm, 3, spiIn, ni, nr, 80), hx(t, vKeymatIn))
	eq(t, "KEYMAT out", KEYMAT(prf, k.D, gqm, 3, spiOut, ni, nr, 80), hx(t, vKeymatOut))
}

func TestGroupsAreSafePrimes(t *testing.T) {
	want := map[uint16]string{
		2:  "ece65381ffffffffffffffff",
		14: "8aacaa68ffffffffffffffff",
		15: "a93ad2caffffffffffffffff",
	}
	for _, d := range groupDefs {
		g, err := GroupByID(d.id)
		if err != nil {
			t.Fatal(err)
		}
		p := g.Prime()
		if p.BitLen() != g.Bits || !p.ProbablyPrime(0) || !p.Rsh(p, 1).ProbablyPrime(0) {
			t.Fatalf("%s is not a safe prime of %d bits", g.Name, g.Bits)
		}
		if w, ok := want[d.id]; ok && !strings.HasSuffix(g.Prime().Text(16), w) {
			t.Fatalf("%s ends %s", g.Name, g.Prime().Text(16)[len(g.Prime().Text(16))-24:])
		}
	}
}
