package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const sampleConf = `
[global]
listen = ["%s"]
port = %d
natt_port = %d
socket = "%s"
retransmit_base = "200ms"

[[pad]]
id = "mn@example"
psk = "a-long-test-psk"

[[pad]]
id = "ar@example"
psk = "a-long-test-psk"

[[connection]]
name = "%s"
remote_addr = "%s"
local_id = "%s"
remote_id = "%s"
ike_proposals = ["aes128-sha256-x25519", "aes128-sha256-modp2048"]
esp_proposals = ["aes128gcm16", "aes128-sha256"]
local_ts = ["%s"]
remote_ts = ["%s"]
mobike = true
`

func TestConfigErrorsNameKeyAndLine(t *testing.T) {
	good := fmt.Sprintf(sampleConf, "127.0.0.1", 500, 4500, "/tmp/x.sock", "home", "127.0.0.2", "mn@example", "ar@example", "10.1.0.0/16", "10.2.0.0/16")
	c, err := ParseConfig("iked.toml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Conns) != 1 || len(c.PAD) != 2 || c.Conns[0].UpdateSPI != 40960 || !c.Conns[0].MOBIKE || c.CookieThreshold != DefaultCookieThreshold {
		t.Fatalf("%+v", c)
	}
	for _, bad := range []struct{ edit, want string }{
		{`ike_proposals = ["aes128-sha256-x25519", "aes128-sha256-modp2048"]|ike_proposals = ["aes128-md5-modp2048"]`, `iked.toml:22: connection[0].ike_proposals: proposal "aes128-md5-modp2048": unknown algorithm "md5"`},
		{`remote_id = "ar@example"|remote_id = "nobody@example"`, `iked.toml:21: connection[0].remote_id: no [[pad]] entry for nobody@example`},
		{`psk = "a-long-test-psk"|psk = "short"`, `iked.toml:11: pad[0].psk: missing or shorter than 8 characters`},
		{`retransmit_base = "200ms"|retransmit_base = "soon"`, `iked.toml:7: global.retransmit_base: bad duration "soon"`},
		{`mobike = true|mobike = true
colour = "blue"`, `iked.toml:27: connection.colour: unknown key`},
		{`[global]|[global`, `iked.toml:3:`},
		{`local_ts = ["10.1.0.0/16"]|local_ts = ["10.1.0.0/33"]`, `iked.toml:24: connection[0].local_ts:`},
		{`port = 500|port = 500
update_spi_type = 16400`, `global.update_spi_type: 16400 is not a private-use status type`},
	} {
		from, to, _ := strings.Cut(bad.edit, "|")
		_, err := ParseConfig("iked.toml", []byte(strings.Replace(good, from, to, 1)))
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: got %v, want %q", bad.edit, err, bad.want)
		}
	}
}

type node struct {
	d      *Daemon
	cancel context.CancelFunc
	done   chan error
	sock   string
}

func startNode(t *testing.T, listen []string, port int, name, remote, lid, rid, lts, rts string) *node {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "iked.sock")
	l := strings.Join(listen, `", "`)
	src := fmt.Sprintf(sampleConf, l, port, port+1, sock, name, remote, lid, rid, lts, rts)
	path := filepath.Join(dir, "iked.toml")
	os.WriteFile(path, []byte(src), 0o600)
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(c, Options{NoKernel: true, Logf: t.Logf})
	if err != nil {
		t.Skipf("cannot listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{d: d, cancel: cancel, done: make(chan error, 1), sock: sock}
	go func() { n.done <- d.Run(ctx) }()
	// The socket file exists between bind and listen: poll with a command.
	for i := 0; i < 500; i++ {
		if _, err := Control(sock, "status"); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-n.done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	return n
}

var spiRe = regexp.MustCompile(`spi ([0-9a-f]{16})_i ([0-9a-f]{16})_r`)
var childRe = regexp.MustCompile(`in 0x([0-9a-f]{8}) out 0x([0-9a-f]{8})`)

func TestTwoDaemonsNoKernel(t *testing.T) {
	port := 20000 + os.Getpid()%20000
	mn := startNode(t, []string{"127.0.0.1", "127.0.0.3"}, port, "home", "127.0.0.2", "mn@example", "ar@example", "10.1.0.0/16", "10.2.0.0/16")
	ar := startNode(t, []string{"127.0.0.2"}, port, "mn", "127.0.0.1", "ar@example", "mn@example", "10.2.0.0/16", "10.1.0.0/16")
	if _, err := Control(mn.sock, "initiate", "home"); err != nil {
		t.Fatal(err)
	}
	st, _ := Control(mn.sock, "status")
	sr, _ := Control(ar.sock, "status")
	t.Logf("initiator:\n%sresponder:\n%s", st, sr)
	if !strings.Contains(st, "ESTABLISHED initiator") || !strings.Contains(sr, "ESTABLISHED responder") || !strings.Contains(st, "10.1.0.0/16 === 10.2.0.0/16") {
		t.Fatal("not established")
	}
	if !strings.Contains(st, "aes128gcm16") || !strings.Contains(st, "aes128-sha256-prfsha256-x25519 mobike msgid") {
		t.Fatal("unexpected proposals")
	}
	ci := childRe.FindStringSubmatch(st)
	if _, err := Control(mn.sock, "rekey-child", ci[1]); err != nil {
		t.Fatal(err)
	}
	st2, _ := Control(mn.sock, "status")
	if strings.Contains(st2, ci[1]) || len(childRe.FindAllString(st2, -1)) != 1 {
		t.Fatalf("after rekey:\n%s", st2)
	}
	spis := spiRe.FindStringSubmatch(st2)
	if _, err := Control(mn.sock, "move", spis[1], "127.0.0.3", "-"); err != nil {
		t.Fatal(err)
	}
	sr2, _ := Control(ar.sock, "status")
	if !strings.Contains(sr2, fmt.Sprintf("remote 127.0.0.3:%d", port)) {
		t.Fatalf("responder did not follow:\n%s", sr2)
	}
	if _, err := Control(ar.sock, "liveness", spis[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := Control(mn.sock, "rekey-ike", spis[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := Control(mn.sock, "bogus"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatal(err)
	}
	st3, _ := Control(mn.sock, "status")
	if strings.Contains(st3, spis[1]) || !strings.Contains(st3, "ESTABLISHED") {
		t.Fatalf("after IKE rekey:\n%s", st3)
	}
}

// TestContextTransferThroughControl moves an IKE SA from a pAR daemon to an
// nAR daemon through the control socket (export, import) and runs
// Algorithm 1 from the nAR: UPDATE_SA_ADDRESSES towards the MN with an
// UPDATE_SPI for a colliding inbound SPI, in one round trip.
func TestContextTransferThroughControl(t *testing.T) {
	port := 20000 + (os.Getpid()+7919)%20000
	mn := startNode(t, []string{"127.0.0.1"}, port, "home", "127.0.0.2", "mn@example", "ar@example", "10.1.0.0/16", "10.2.0.0/16")
	par := startNode(t, []string{"127.0.0.2"}, port, "mn", "127.0.0.1", "ar@example", "mn@example", "10.2.0.0/16", "10.1.0.0/16")
	nar := startNode(t, []string{"127.0.0.4"}, port, "mn", "127.0.0.1", "ar@example", "mn@example", "10.2.0.0/16", "10.1.0.0/16")
	if _, err := Control(mn.sock, "initiate", "home"); err != nil {
		t.Fatal(err)
	}
	sp, _ := Control(par.sock, "status")
	spis := spiRe.FindStringSubmatch(sp)
	child := childRe.FindStringSubmatch(sp)
	js, err := Control(par.sock, "export", spis[2])
	if err != nil || !strings.HasPrefix(js, "{") {
		t.Fatalf("export: %v %q", err, js)
	}
	key, err := Control(nar.sock, "import", fmt.Sprintf("127.0.0.4:%d", port), "-", strings.TrimSpace(js))
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	out, err := Control(nar.sock, "repair", strings.Fields(key)[0], fmt.Sprintf("127.0.0.4:%d", port), fmt.Sprintf("127.0.0.1:%d", port), "3", "5s", child[1])
	if err != nil || out != "round-trips 1 updated 1 fallback false\n" {
		t.Fatalf("repair: %v %q", err, out)
	}
	sm, _ := Control(mn.sock, "status")
	sn, _ := Control(nar.sock, "status")
	t.Logf("MN:\n%snAR:\n%s", sm, sn)
	if !strings.Contains(sm, fmt.Sprintf("remote 127.0.0.4:%d", port)) || strings.Contains(sn, "in 0x"+child[1]) {
		t.Fatal("not moved or SPI not changed")
	}
	mc, nc := childRe.FindStringSubmatch(sm), childRe.FindStringSubmatch(sn)
	if mc[2] != nc[1] || mc[1] != nc[2] {
		t.Fatalf("child SPIs do not match: MN %v nAR %v", mc, nc)
	}
	if _, err := Control(mn.sock, "liveness", spis[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := Control(nar.sock, "rekey-child", nc[1]); err != nil {
		t.Fatal(err)
	}
}
