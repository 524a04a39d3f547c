package conf

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const base = `
remote 192.0.2.1 { exchange_mode main; proposal { encryption_algorithm aes; hash_algorithm sha1; authentication_method pre_shared_key; dh_group 2; } }
sainfo anonymous { encryption_algorithm aes; authentication_algorithm hmac_sha1; compression_algorithm deflate; }
`

func parse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Parse("t.conf", []byte(src))
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	return c
}

func parseErr(t *testing.T, src string, line int, substr string) *Error {
	t.Helper()
	_, err := Parse("t.conf", []byte(src))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want an *Error containing %q, got %v", substr, err)
	}
	if e.Pos.Line != line || !strings.Contains(e.Error(), substr) || !strings.HasPrefix(e.Error(), "t.conf:") {
		t.Fatalf("want t.conf:%d: ...%q..., got %v", line, substr, e)
	}
	return e
}

func hasWarning(c *Config, line int, substr string) bool {
	for _, w := range c.Warnings {
		if w.Pos.Line == line && strings.Contains(w.Msg, substr) {
			return true
		}
	}
	return false
}

func TestTypedRemoteAndSAInfo(t *testing.T) {
	c := parse(t, `path pre_shared_key "/etc/racoon/psk.txt";
remote 2001:db8::1 [4500] {
	exchange_mode aggressive, main;
	my_identifier fqdn "me.example.com";
	peers_identifier user_fqdn "you@example.com";
	peers_identifier address 2001:db8::1;
	verify_identifier on;
	nonce_size 8;
	initial_contact off;
	passive on;
	proposal_check obey;
	generate_policy unique;
	lifetime time 2 hours;
	proposal { encryption_algorithm aes 256; hash_algorithm sha512; authentication_method pre_shared_key; dh_group modp4096; lifetime time 30 min; }
	proposal { encryption_algorithm 3des; hash_algorithm md5; authentication_method pre_shared_key; dh_group 16; }
}
sainfo subnet 2001:db8:1::/64 [80] tcp address 2001:db8:2::1 any {
	pfs_group modp2048;
	lifetime time 3600 seconds;
	encryption_algorithm aes 192, 3des, blowfish 448;
	authentication_algorithm hmac_sha256, hmac_sha1;
	compression_algorithm deflate;
}
`)
	if c.Path(PathPreSharedKey) != "/etc/racoon/psk.txt" {
		t.Errorf("psk path %q", c.Path(PathPreSharedKey))
	}
	r := c.Remotes[0]
	if r.Address != netip.MustParseAddr("2001:db8::1") || r.Port != 4500 || r.Anonymous {
		t.Errorf("address %v port %d", r.Address, r.Port)
	}
	if len(r.ExchangeModes) != 2 || r.ExchangeModes[0] != ModeAggressive || r.ExchangeModes[1] != ModeMain {
		t.Errorf("modes %v", r.ExchangeModes)
	}
	if r.MyIdentifier.Type != IDFQDN || r.MyIdentifier.Value != "me.example.com" {
		t.Errorf("my id %+v", r.MyIdentifier)
	}
	if len(r.PeersIdentifiers) != 2 || r.PeersIdentifiers[1].Addr != netip.MustParseAddr("2001:db8::1") {
		t.Errorf("peers ids %+v", r.PeersIdentifiers)
	}
	if !r.VerifyIdentifier || r.NonceSize != 8 || r.InitialContact || !r.Passive || r.ProposalCheck != CheckObey ||
		r.GeneratePolicy != GeneratePolicyUnique || r.Lifetime != 2*time.Hour {
		t.Errorf("remote %+v", r)
	}
	p0, p1 := r.Proposals[0], r.Proposals[1]
	if p0.Encryption.Name != "aes" || p0.Encryption.DOI != 7 || p0.Encryption.KeyLen != 256 || p0.Hash.DOI != 6 ||
		p0.AuthMethod.DOI != 1 || p0.DHGroup.DOI != 16 || p0.Lifetime != 30*time.Minute || !p0.Usable() {
		t.Errorf("proposal 0 %+v", p0)
	}
	if p1.Encryption.DOI != 5 || p1.Encryption.KeyLen != 0 || p1.Hash.DOI != 1 || p1.DHGroup.Name != "modp4096" {
		t.Errorf("proposal 1 %+v", p1)
	}
	si := c.SAInfos[0]
	if si.Local.Kind != SAAddress || si.Local.Prefix != netip.MustParsePrefix("2001:db8:1::/64") || si.Local.Port != 80 ||
		si.Local.Proto != 6 || si.Local.IDType != IDSubnet {
		t.Errorf("local %+v", si.Local)
	}
	if si.Remote.Prefix != netip.MustParsePrefix("2001:db8:2::1/128") || si.Remote.Proto != 255 {
		t.Errorf("remote %+v", si.Remote)
	}
	if si.PFSGroup.DOI != 14 || si.Lifetime != time.Hour || len(si.Encryption) != 3 || si.Encryption[0].KeyLen != 192 ||
		si.Encryption[0].DOI != 12 || si.Encryption[2].KeyLen != 448 || si.Auth[0].DOI != 5 || si.Compression[0].DOI != 2 {
		t.Errorf("sainfo %+v", si)
	}
}

func TestDefaults(t *testing.T) {
	c := parse(t, base)
	r := c.Remotes[0]
	if r.NonceSize != 16 || !r.InitialContact || r.ProposalCheck != CheckStrict || r.Lifetime != 8*time.Hour ||
		r.Port != 500 || r.MyIdentifier.Type != IDAddress || r.Passive {
		t.Errorf("remote defaults %+v", r)
	}
	if c.Timer.Counter != 5 || c.Timer.Interval != 10*time.Second || c.Listen.AdminSock != "/var/racoon/racoon.sock" ||
		c.SAInfos[0].Lifetime != 8*time.Hour {
		t.Errorf("defaults %+v %+v", c.Timer, c.Listen)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings on a plain PSK config: %v", c.Warnings)
	}
}

func TestLexerQuirks(t *testing.T) {
	// '=' and parentheses fall to the catch-all and vanish
	c := parse(t, `timer { natt_keepalive 10sec; phase1 = 30 secs; }
remote anonymous { exchange_mode main,aggressive , base; dpd_delay = 30; proposal { encryption_algorithm aes; hash_algorithm sha1; authentication_method pre_shared_key; dh_group 2; } }
sainfo (address 10.0.2.0/24 any address 10.246.38.0/24 any) { encryption_algorithm aes; authentication_algorithm hmac_sha1; compression_algorithm deflate; }
`)
	if c.Timer.NATTKeepalive != 10*time.Second || c.Timer.Phase1 != 30*time.Second {
		t.Errorf("timer %+v", c.Timer)
	}
	if len(c.Remotes[0].ExchangeModes) != 3 {
		t.Errorf("commas in remote: %v", c.Remotes[0].ExchangeModes)
	}
	if c.Remotes[0].DPDDelay != 30 || !hasWarning(c, 2, "dead peer detection") {
		t.Errorf("dpd_delay %d %v", c.Remotes[0].DPDDelay, c.Warnings)
	}
	if c.SAInfos[0].Local.Prefix != netip.MustParsePrefix("10.0.2.0/24") {
		t.Errorf("sainfo in parentheses %+v", c.SAInfos[0].Local)
	}
	// hex-letter words are ADDRSTRING, and no host names are resolved
	parseErr(t, "remote dead { exchange_mode main; }", 1, `"dead" is not a numeric`)
	// other words vanish: remote IPO_Outro { -> remote {
	parseErr(t, "# x\nremote IPO_Outro {\n", 2, `syntax error: unexpected "{"`)
	// the swallowed characters are part of yytext
	parseErr(t, "mode_cfg {\n dns4 xxx.xxx,10.0.0.1;\n}", 2, `unexpected "xxx.xxx,"`)
	// a '#' comment may end a line; C comments do not exist
	parse(t, "log notify; # comment\n"+base)
	parseErr(t, "/* c */ log notify;", 1, "syntax error")
}

func TestGrammarRefusals(t *testing.T) {
	prop := `proposal { encryption_algorithm aes; hash_algorithm sha1; authentication_method pre_shared_key; dh_group 2; }`
	for _, c := range []struct {
		src    string
		line   int
		substr string
	}{
		{"remote anonymous {\n exchange_mode main;\n passive yes;\n" + prop + "}", 3, "syntax error"},
		{"listen {\n admin [7002];\n}", 2, "syntax error"},
		{"remote anonymous {\n exchange_mode main;\n dh_group 2;\n}", 3, "dh_group cannot be defined here"},
		{"remote anonymous {\n exchange_mode main;\n lifetime byte 10 MB;\n}", 3, "byte lifetime support is deprecated"},
		{"remote anonymous {\n exchange_mode main;\n}", 1, "no proposal"},
		{"remote anonymous {\n" + prop + "\n}", 1, "no exchange_mode"},
		{"remote anonymous {\n exchange_mode main;\n proposal { encryption_algorithm aes; hash_algorithm sha1; dh_group 2; }\n}", 3, "authentication method required"},
		{"remote anonymous {\n exchange_mode aggressive;\n" + prop + "\n proposal { encryption_algorithm aes; hash_algorithm sha1; authentication_method pre_shared_key; dh_group 14; }\n}", 4, "same DH group"},
		{"remote anonymous {\n exchange_mode main;\n proposal {\n encryption_algorithm 3des 128;\n}}", 4, "keylen not allowed"},
		{"remote anonymous {\n exchange_mode main;\n proposal {\n encryption_algorithm aes 100;\n}}", 4, "invalid keylen"},
		{"remote anonymous {\n exchange_mode main;\n proposal {\n hash_algorithm hmac_sha1;\n}}", 4, "algorithm mismatched"},
		{"remote anonymous {\n exchange_mode main;\n proposal {\n dh_group 6;\n}}", 4, "must be DH group"},
		{"remote anonymous {\n exchange_mode main;\n nonce_size 4;\n}", 3, "nonce_size"},
		{"sainfo anonymous {\n encryption_algorithm aes;\n authentication_algorithm hmac_sha1;\n}", 1, "no compression algorithm"},
		{"sainfo address ::1 [80] icmp6 address ::1 any {\n}", 1, `port number must be "any"`},
		{"sainfo address 10.0.0.1 icmp6 address ::1 any {\n}", 1, "upper layer protocol mismatched"},
		{"sainfo address 10.0.0.1/33 any anonymous {\n}", 1, "prefix /33"},
		{"sainfo address 10.0.0.1 any anonymous {\nencryption_algorithm aes; authentication_algorithm hmac_sha1; compression_algorithm deflate;}\nsainfo address 10.0.0.1 any anonymous {\nencryption_algorithm aes; authentication_algorithm hmac_sha1; compression_algorithm deflate;}", 3, "duplicated sainfo"},
		{"remote 10.0.0.2 inherit 10.0.0.1 {\n}", 1, "failed to get remoteconf for 10.0.0.1:500"},
		{`remote "b" inherit "a" {` + "\n}", 1, `named parent remoteconf "a" does not exist`},
		{"listen {\n adminsock \"/s\" \"root\" \"wheel\" 0680;\n}", 2, "Mode"},
		{"include \"x.conf\";", 1, `needs a preceding "path include"`},
		{"log notify", 1, "unexpected end of file"},
		{"privsep {\n user \"no-such-user-ikectx\";\n}", 2, "unknown user"},
		{"remote 10.0.0.1 {\n exchange_mode main;\n my_identifier fqdn;\n}", 3, "needs a value"},
		{"remote 10.0.0.1 {\n exchange_mode main;\n certificate_type x509 \"/nonexistent/c.pem\" \"k\";\n}", 3, "failed to load certificate"},
	} {
		parseErr(t, c.src, c.line, c.substr)
	}
}

func TestInherit(t *testing.T) {
	c := parse(t, `remote anonymous { exchange_mode main; lifetime time 1 hour;
 proposal { encryption_algorithm aes; hash_algorithm sha1; authentication_method pre_shared_key; dh_group 2; } }
remote 2001:db8::1 inherit anonymous { exchange_mode aggressive; }
remote 2001:db8::1 [8000] inherit 2001:db8::1
{ proposal { encryption_algorithm 3des; hash_algorithm sha1; authentication_method pre_shared_key; dh_group 2; } }
remote "base" { exchange_mode main; proposal { encryption_algorithm aes; hash_algorithm sha256; authentication_method pre_shared_key; dh_group 14; } }
remote "child" inherit "base" ;
`+"sainfo anonymous { encryption_algorithm aes; authentication_algorithm hmac_sha1; compression_algorithm deflate; }")
	r1, r2, named, child := c.Remotes[1], c.Remotes[2], c.Remotes[3], c.Remotes[4]
	if r1.Lifetime != time.Hour || r1.ExchangeModes[0] != ModeAggressive || len(r1.Proposals) != 1 || r1.Inherit != "anonymous" {
		t.Errorf("r1 %+v", r1)
	}
	if !hasWarning(c, 3, "0.8.2 refuses") {
		t.Errorf("no warning for inherit anonymous: %v", c.Warnings)
	}
	if r2.Port != 8000 || len(r2.Proposals) != 2 || r2.Proposals[1].Encryption.Name != "3des" || r2.ExchangeModes[0] != ModeAggressive {
		t.Errorf("r2 %+v", r2)
	}
	if named.Name != "base" || child.Name != "child" || child.Proposals[0].Hash.Name != "sha256" {
		t.Errorf("named %+v child %+v", named, child)
	}
	if !hasWarning(c, 6, "no remote_address") {
		t.Errorf("named without address: %v", c.Warnings)
	}
}

func TestWarnings(t *testing.T) {
	c := parse(t, `privsep { user "root"; group 0; chroot "/var/empty"; }
mode_cfg { network4 10.0.0.1; dns4 10.0.0.1, 10.0.0.2; split_network include 10.0.0.0/8, 192.168.0.0/16; split_dns "a", "b"; auth_source pam; save_passwd on; }
remote anonymous {
	exchange_mode main, base;
	nat_traversal force;
	ike_frag on;
	dpd on;
	script "/x" phase1_up;
	mode_cfg on;
	proposal { encryption_algorithm blowfish; hash_algorithm tiger; authentication_method xauth_psk_server; dh_group ec2n155; }
}
sainfo anonymous { pfs_group modp8192; encryption_algorithm aes; authentication_algorithm hmac_sha1; compression_algorithm deflate; }
`)
	for _, w := range []struct {
		line   int
		substr string
	}{{1, "privsep"}, {2, "mode_cfg"}, {4, "base mode"}, {5, "NAT traversal"}, {6, "fragmentation"}, {7, "dead peer"},
		{8, "scripts"}, {9, "mode config"}, {10, "blowfish tiger xauth_psk_server ec2n155"}, {3, "no proposal ikectx can negotiate"},
		{12, "pfs_group modp8192"}} {
		if !hasWarning(c, w.line, w.substr) {
			t.Errorf("no warning %q at line %d: %v", w.substr, w.line, c.Warnings)
		}
	}
	for _, w := range c.Warnings {
		if !strings.HasPrefix(w.String(), "t.conf:") {
			t.Errorf("warning without file:line: %s", w)
		}
	}
}

func TestAdminSockMode(t *testing.T) {
	for dec, want := range map[uint64]uint32{660: 0660, 600: 0600, 640: 0640, 700: 01000, 111: 0222, 0: 0} {
		got, msg := adminMode(dec)
		if msg != "" || got != want {
			t.Errorf("%d: got %o %q, want %o", dec, got, msg, want)
		}
	}
	for _, bad := range []uint64{778, 680, 608, 1000} {
		if _, msg := adminMode(bad); msg == "" {
			t.Errorf("%d accepted", bad)
		}
	}
	c := parse(t, `listen { isakmp 10.0.0.1 [4500]; isakmp ::1; adminsock "/run/r.sock" "root" "operator" 0660; strict_address; }`)
	l := c.Listen
	if len(l.ISAKMP) != 2 || l.ISAKMP[0].Port != 4500 || l.ISAKMP[1].Port != 500 || l.AdminSock != "/run/r.sock" ||
		l.AdminMode != 0660 || l.AdminOwner != "root" || !l.StrictAddress {
		t.Errorf("%+v", l)
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0755)
		if err := os.WriteFile(p, []byte(body), 0644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestInclude(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"racoon.conf":       "path include \"DIR/conf.d\";\ninclude \"*.conf\";\nlog debug;\n",
		"conf.d/a.conf":     "remote 192.0.2.1 { exchange_mode main; proposal { encryption_algorithm aes; hash_algorithm sha1; authentication_method pre_shared_key; dh_group 2; } }\n",
		"conf.d/b.conf":     "include \"sub/c.conf\";\n",
		"conf.d/sub/c.conf": "sainfo anonymous { encryption_algorithm aes; authentication_algorithm hmac_sha1; compression_algorithm deflate; }\n",
	})
	main := filepath.Join(dir, "racoon.conf")
	b, _ := os.ReadFile(main)
	os.WriteFile(main, []byte(strings.ReplaceAll(string(b), "DIR", dir)), 0644)
	c, err := ParseFile(main)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Remotes) != 1 || len(c.SAInfos) != 1 || c.LogLevel != "debug" || len(c.Files) != 4 {
		t.Errorf("remotes %d sainfos %d log %s files %v", len(c.Remotes), len(c.SAInfos), c.LogLevel, c.Files)
	}
	if c.Remotes[0].Pos.File != filepath.Join(dir, "conf.d", "a.conf") {
		t.Errorf("position %v", c.Remotes[0].Pos)
	}

	// an error in an included file names the include chain
	os.WriteFile(filepath.Join(dir, "conf.d/sub/c.conf"), []byte("\nbogus;\n"), 0644)
	_, err = ParseFile(main)
	var e *Error
	if !errors.As(err, &e) || e.Pos.Line != 2 || len(e.Included) != 2 || e.Included[1].Line != 2 ||
		!strings.Contains(err.Error(), "c.conf:2:") || !strings.Contains(err.Error(), "included from "+main+":2:") {
		t.Errorf("include chain: %v", err)
	}

	// zero glob matches are fatal
	os.WriteFile(main, []byte("path include \""+dir+"\";\ninclude \"nothing*.conf\";\n"), 0644)
	if _, err := ParseFile(main); err == nil || !strings.Contains(err.Error(), "glob found no matches") || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("zero matches: %v", err)
	}

	// at most ten files open: a file including itself
	os.WriteFile(main, []byte("include \""+main+"\";\n"), 0644)
	if _, err := ParseFile(main); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("recursion: %v", err)
	}
}

func TestFixtureInterfaces(t *testing.T) {
	// parse without the file system: every read fails
	o := Options{ReadFile: func(string) ([]byte, error) { return nil, fs.ErrNotExist }}
	if _, err := ParseOptions("x", []byte(base), o); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte("sainfo (address 10.0.0.0/8 [any] any address ::1 icmp6) { pfs_group 2; }"))
	f.Add([]byte("listen { isakmp ::1 [500]; adminsock \"a\" \"b\" \"c\" 0600; } timer { counter 5; } padding { randomize on; }"))
	f.Add([]byte("mode_cfg { dns4 1.2.3.4, 5.6.7.8; split_dns \"a\"; } ldapcfg { version 3; host \"h\"; } radiuscfg { auth \"a\" 1 \"b\"; }"))
	f.Add([]byte("remote \"n\" { remote_address 1.2.3.4 [4]; } remote \"m\" inherit \"n\"; include \"*\";"))
	o := Options{
		ReadFile: func(string) ([]byte, error) { return nil, fs.ErrNotExist },
		Glob:     func(string) ([]string, error) { return nil, nil }, // never scan the real file system
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseOptions("fuzz.conf", b, o)
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.conf:") {
			t.Fatalf("error without position: %v", err)
		}
	})
}

// BenchmarkParse measures a typical gateway configuration (racoon/13-like).
func BenchmarkParse(b *testing.B) {
	src := []byte(`path    pre_shared_key  "/usr/local/etc/racoon/psk.txt";
log     debug;
padding { maximum_length 20; randomize off; strict_check off; exclusive_tail off; }
timer { counter 5; interval 20 sec; persend 1; phase1 30 sec; phase2 15 sec; }
listen { isakmp 192.168.250.21 [500]; }
remote 172.16.5.4 [500] {
	exchange_mode main,aggressive; doi ipsec_doi; situation identity_only;
	my_identifier address 192.168.250.21; peers_identifier address 172.16.5.4;
	lifetime time 8 hour; passive off; proposal_check obey; generate_policy off;
	proposal { encryption_algorithm aes; hash_algorithm sha1; authentication_method pre_shared_key; lifetime time 30 sec; dh_group 2; }
}
sainfo (address 10.0.2.0/24 any address 10.246.38.0/24 any) {
	pfs_group 2; lifetime time 36000 sec; encryption_algorithm aes,3des;
	authentication_algorithm hmac_sha1,hmac_md5; compression_algorithm deflate;
}
`)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse("bench.conf", src); err != nil {
			b.Fatal(err)
		}
	}
}
