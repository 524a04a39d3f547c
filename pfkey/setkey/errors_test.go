package setkey

import (
	"strings"
	"testing"
)

// Each bad script must fail with the exact position and a message naming the cause.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		src  string
		want string // "line:col: substring"
	}{
		{"add ::1 ::1 esp 0x100 -E rc5-cbc \"kamekame\";", "1:26: unknown encryption algorithm \"rc5-cbc\""},
		{"add ::1 ::1 esp 0x100\n\t-E aes-cbc \"short\";", "2:13: invalid key length 40 bits for aes-cbc: must be 128, 192, 256 bits"},
		{"add ::1 ::1 esp 0x100 -E null \"\";", "1:31: syntax error: expected ';', found quoted string"},
		{"add ::1 ::1 esp 0x100 -E 3des-cbc 0x0102;", "1:35: invalid key length 16 bits for 3des-cbc: must be 192 bits"},
		{"add ::1 ::1 esp 0x100 -A hmac-sha1 \"12345678901234567890\";", "1:23: an esp SA needs an encryption algorithm"},
		{"add ::1 ::1 ah 0x100 -A hmac-sha9 \"x\";", "1:25: unknown authentication algorithm \"hmac-sha9\""},
		{"add ::1 ::1 ah 0x100 -A hmac-md5;", "1:33: authentication algorithm hmac-md5 needs a key"},
		{"add ::1 ::1 esp 0x1000000000 -E null;", "1:17: SPI 0x1000000000 is too big"},
		{"add ::1 ::1 esp 4294967296 -E null;", "1:17: SPI 4294967296 is too big"},
		{"add ::1 10.0.0.1 esp 1 -E null;", "1:1: source and destination addresses are of different families"},
		{"add ::1 ::1 esp 1 -E null", "1:26: unexpected end of file, expected ';'"},
		{"add ::1 ::1 esp-old 1 -r 4 -E null;", "1:23: replay prevention cannot be used with ah-old/esp-old"},
		{"add ::1 ::1 esp 1 -E des-32iv \"12345678\";", "1:22: algorithm mismatched: des-32iv needs esp-old"},
		{"add ::1 ::1 esp 1 -m bogus -E null;", "1:22: syntax error: expected a mode"},
		{"add ::1 ::1 esp 1 -x -E null;", "1:19: syntax error: expected an algorithm option"},
		{"add zzz.invalid ::1 esp 1 -E null;", "1:5: cannot resolve \"zzz.invalid\""},
		{"add -n host ::1 esp 1 -E null;", "1:8: invalid address \"host\""},
		{"add -4 ::1 ::1 esp 1 -E null;", "1:8: address ::1 is not of the family chosen with -4"},
		{"frobnicate;", "1:1: unknown command \"frobnicate\""},
		{"flush foo;", "1:7: syntax error: expected an SA protocol"},
		{"# comment\nspdadd 10.0.0.0/33 10.0.1.0/24 any -P out none;", "2:17: invalid prefix length /33"},
		{"spdadd 10.0.0.0/24 10.0.1.0/24 nosuchproto -P out none;", "1:32: invalid upper layer protocol \"nosuchproto\""},
		{"spdadd 10.0.0.0/24 10.0.1.0/24 any -P out;", "1:42: policy needs an action"},
		{"spdadd 10.0.0.0/24 10.0.1.0/24 any -P sideways ipsec;", "1:39: syntax error in policy: expected a policy direction"},
		{"spdadd 10.0.0.0/24 10.0.1.0/24 any -P out ipsec esp/tunnel//require;", "1:49: invalid policy request: tunnel mode needs the tunnel endpoints"},
		{"spdadd 10.0.0.0/24 10.0.1.0/24 any -P out ipsec\n  esp/tunnel/10.0.0.1-::1/require;", "2:14: invalid policy request: address family mismatch"},
		{"spdadd 10.0.0.0/24 10.0.1.0/24 any -P in ipsec esp/transport/me-any/require;", "1:62: invalid policy request: me-any is only for out policies"},
		{"spdadd 10.0.0.0/24 10.0.1.0/24 any -P out ipsec esp/transport/require;", "1:63: syntax error in policy: expected addresses or '/' before the level \"require\""},
		{"spdadd 10.0.0.0/24 10.0.1.0/24 any -P out ipsec esp;", "1:52: too few arguments in policy request"},
		{"spdadd 10.0.0.0/24 10.0.1.0/24 any -P out ipsec esp/transport//unique:99999999999;", "1:64: invalid level \"unique:99999999999\""},
		{"spdadd 10.0.0.0/24 10.0.1.0/24 any -P out discard esp/transport//require;", "1:51: syntax error in policy: discard takes no requests"},
		{"spdadd 10.0.0.0/24 10.0.1.0/24 any -P out ipsec esp/tunnel/host-10.0.0.2/require;", "1:60: invalid IP address \"host\" in policy request"},
		{"spdadd 10.0.0.0/24 10.0.1.0/24 any -P out prio 5000000000 none;", "1:48: invalid priority offset 5000000000"},
		{"spdadd 10.0.0.0/24 10.0.1.0/24 tcp 1,2 -P out none;", "1:36: \"1,2\": a type,code spec is only for icmp, icmp6 and mh"},
		{"spdadd ::1 ::1 icmp6 1,2,3 -P out none;", "1:22: invalid an upper layer protocol spec \"1,2,3\""},
		{"add ::1 ::1 esp 1 -E null; add ::1 ::1 esp 2\n -E aes-cbc \\\n 0x00;", "2:13: syntax error: unexpected \"\\\\\""},
		{"add ::1 ::1 esp 1 -E aes-cbc \"0123456789abcdef", "1:30: unterminated quoted string"},
		{"spdadd ::1 ::1 any -P out ipsec esp/transport//require", "1:55: unexpected end of file in policy"},
		{"add ::1[x1x] ::1 esp 1 -E null;", "1:9: unknown service name \"x1x\""},
		{"add ::1 ::1 tcp 1 -A hmac-sha1 \"12345678901234567890\";", "1:19: a tcp SA takes only -A tcp-md5 KEY"},
	}
	for _, c := range cases {
		_, err := Parse("t.conf", []byte(c.src), &Options{Resolve: noResolve})
		if err == nil {
			t.Errorf("%q: parsed, want error %q", c.src, c.want)
			continue
		}
		want := "t.conf:" + c.want
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q:\n got %s\nwant %s...", c.src, err, want)
		}
		if _, ok := err.(*Error); !ok {
			t.Errorf("%q: error is %T, want *Error", c.src, err)
		}
	}
}
