package strongswan

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Where Debian's packages put strongSwan; the lab image uses the same
// paths.
const (
	CharonBin  = "/usr/lib/ipsec/charon"
	SwanctlBin = "/usr/sbin/swanctl"
	LibDir     = "/usr/lib/ipsec"
	PluginDir  = "/usr/lib/ipsec/plugins"
)

// Plugins is charon's load list: the part of Debian's compiled-in default
// list that IKEv2 and IKEv1 with pre-shared keys, kernel-netlink and vici
// use, in that list's order. Left out: kernel-libipsec (ESP in user
// space), stroke, updown, attr, resolve and the EAP/XAuth/TNC/HA plugins.
var Plugins = []string{
	"aes", "sha2", "sha1", "md5", "mgf1", "random", "nonce", "x509", "revocation",
	"constraints", "pubkey", "pkcs1", "pem", "openssl", "pkcs8", "fips-prf", "gmp",
	"xcbc", "hmac", "kdf", "gcm", "drbg", "kernel-netlink", "socket-default", "vici",
}

// SwanctlPlugins is swanctl's load list (parsing credentials; a subset of
// Plugins). Not openssl: loading libcrypto made each swanctl call about
// 40 ms slower on the host and a second slower in the lab, and PSK
// configurations do not need it.
var SwanctlPlugins = []string{"pem", "pkcs1", "pkcs8", "x509", "revocation", "constraints", "pubkey", "random"}

// requiredPlugins cannot be left out: without them charon cannot talk IKE,
// install SAs or be driven.
var requiredPlugins = []string{"random", "nonce", "openssl", "kernel-netlink", "socket-default", "vici"}

// PluginFile is the shared object of plugin name.
func PluginFile(name string) string {
	return filepath.Join(PluginDir, "libstrongswan-"+name+".so")
}

// Paths of the files a charon uses in its directory.
func confPath(dir string) string    { return filepath.Join(dir, "strongswan.conf") }
func swanctlPath(dir string) string { return filepath.Join(dir, "swanctl.conf") }
func runDir(dir string) string      { return filepath.Join(dir, "run") }
func viciPath(dir string) string    { return filepath.Join(dir, "charon.vici") }

// Conf is the strongswan.conf of a charon whose files live in dir: the
// plugins (those of Plugins and SwanctlPlugins that are installed, as
// given), the vici socket in dir, logging to stderr (IKE, configuration
// and kernel groups at level 1, lines stamped "SECONDS.MMM "), no
// routes of its own, aggressive mode with PSK allowed (interop tests).
func Conf(dir string, charonPlugins, swanctlPlugins []string) string {
	vici := "unix://" + viciPath(dir)
	return fmt.Sprintf(`# written by ikectx testbed/strongswan for one charon in a network namespace
charon {
	load_modular = no
	load = %s
	install_routes = no
	install_virtual_ip = no
	i_dont_care_about_security_and_use_aggressive_mode_psk = yes
	filelog {
		stderr {
			time_format = %%s
			time_add_ms = yes
			default = 0
			ike = 1
			cfg = 1
			knl = 1
		}
	}
	plugins {
		vici {
			socket = %s
		}
	}
}
swanctl {
	load = %s
	socket = %s
}
`, strings.Join(charonPlugins, " "), vici, strings.Join(swanctlPlugins, " "), vici)
}
