package daemon

import (
	"bytes"
	"log"
	"net/netip"
	"strings"
	"testing"

	"github.com/ikectx/ikectx/pfkey"
	"github.com/ikectx/ikectx/racoon/conf"
)

// An ACQUIRE for a policy towards a passive remote starts nothing and is
// no error, as with ipsec-tools' racoon: a mobile node's SA to a new access
// router comes by context transfer while the kernel holds the packets.
func TestAcquirePassiveRemoteIgnored(t *testing.T) {
	me, nar := netip.MustParseAddr("2001:db8:2::100"), netip.MustParseAddr("2001:db8:2::1")
	ha := netip.MustParseAddr("2001:db8:3::1")
	src := `remote 2001:db8:2::1 {
	exchange_mode main;
	passive on;
	proposal { encryption_algorithm 3des; hash_algorithm sha1; authentication_method pre_shared_key; dh_group modp1024; }
}
sainfo anonymous { encryption_algorithm aes 128; authentication_algorithm hmac_sha1; compression_algorithm deflate; }
`
	c, err := conf.Parse("racoon.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	mk := &memKernel{pols: []*pfkey.PolicyEntry{{ID: 7, Src: netip.PrefixFrom(me, 128), Dst: netip.PrefixFrom(ha, 128),
		Proto: pfkey.ProtoAny, Dir: pfkey.DirOutbound, Type: pfkey.PolicyIPsec,
		Requests: []pfkey.IPSecRequest{{Proto: pfkey.ProtoESP, Mode: pfkey.ModeTunnel, Level: pfkey.LevelRequire,
			Src: netip.AddrPortFrom(me, 0), Dst: netip.AddrPortFrom(nar, 0)}}}}}
	var logs bytes.Buffer
	d := &Daemon{opt: Options{Debug: 1}, cfg: c, kernel: mk, ph1s: map[[16]byte]*ph1{}, ph2s: map[ph2key]*ph2{},
		inflight: map[uint32]bool{}, events: newEventHub(), log: log.New(&logs, "racoon: ", 0)}
	d.handleKernel(&pfkey.Message{Type: pfkey.MsgAcquire, Policy: &pfkey.Policy{ID: 7}})
	if len(d.ph1s) != 0 || len(d.inflight) != 0 {
		t.Fatal("a passive remote initiated", d.ph1s, d.inflight)
	}
	if strings.Contains(logs.String(), "ERROR") || !strings.Contains(logs.String(), "because of passive mode, ignore the acquire message for 2001:db8:2::1") {
		t.Fatal(logs.String())
	}
	if d.Stats().Acquires != 1 {
		t.Fatal(d.Stats())
	}
}
