// Package strongswan runs strongSwan's charon, the IKE daemon a user would
// pick today, as a peer and as a comparison point in the kernel lab: charon
// with the kernel-netlink plugin installs its SAs and policies in the real
// XFRM SAD/SPD, so its ESP is the kernel's (unlike internal/charontest,
// which runs charon on the host with kernel-libipsec, ESP in user space).
//
// Two sides:
//
//   - Host: LabFiles lists what the lab image needs (charon, swanctl, the
//     plugins in Plugins and SwanctlPlugins, their libraries through ldd,
//     libgcc_s.so.1) from this host's Debian installation. `go run
//     ./cmd/testbed lab test` adds them whenever strongSwan is installed
//     on the host (scripts/deps.sh installs it).
//   - Guest (or host, for charon with a kernel that has ESP): Start runs
//     one charon per network namespace with its own strongswan.conf,
//     private /run and vici socket under a directory, loads a swanctl.conf
//     and returns once vici answers; Charon.Swanctl drives it; Stop ends
//     it.
//
// Paths are Debian's, the same on the host and in the guest: charon
// /usr/lib/ipsec/charon, its libraries /usr/lib/ipsec/lib*.so.0, plugins
// /usr/lib/ipsec/plugins/libstrongswan-NAME.so, swanctl /usr/sbin/swanctl
// (constants CharonBin, PluginDir, SwanctlBin). No /etc/strongswan.conf or
// /etc/strongswan.d is used: each charon gets a complete strongswan.conf
// (Conf) with load_modular = no and an explicit plugin list.
//
// The files Start writes in dir: strongswan.conf, swanctl.conf, run/
// (bind-mounted over /run in charon's mount namespace, because charon's pid
// file is hard-coded to /var/run/charon.pid) and charon.vici (the vici
// socket). Charon logs to stderr, which goes to Start's log writer.
//
// charon is configured with install_routes = no (no routes in table 220):
// the caller routes the inner networks as it does for iked.
//
// Linux only: on other systems LabFiles, Start and Available return an
// error. The lab test (strongswan_lab_test.go, build tag lab) runs charon
// against charon and against ikectx's iked (PF_KEY) with the real ESP.
package strongswan
