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
// # Measured (kernel lab, Debian 12's strongSwan 5.9.8, 2 shared host cores)
//
// These come from the lab test's "measure:" lines, in runs where the
// machine was quiet (the end of a full lab suite, load about 2) and where
// it was heavily shared (load 12-16); notes/kernel-lab.md saw charon ready
// in 0.7-0.85 s and IKEv2 in 0.3-0.65 s.
//
//   - charon start to vici answering (ReadyAfter): 0.3-1.0 s quiet; 1.1-6.3 s
//     loaded, 4.1-7.5 s for two started together. The first charon of a
//     boot is the slowest (its libraries are touched for the first time).
//     swanctl --load-all adds 0.6 s quiet, 0.8-2.3 s loaded (LoadedAfter):
//     every swanctl call costs that, which is why Initiate reports the
//     exchange time from charon's log, not swanctl's.
//   - IKE_SA_INIT + IKE_AUTH with the child (aes128-sha256-ecp256, ESP
//     aes128-sha256 or aes128-sha1), charon initiating, from charon's
//     "initiating IKE_SA" to "CHILD_SA ... established": against charon
//     406 ms quiet, 1.6-3.2 s loaded; against iked 233 ms quiet, 1.0-2.4 s
//     loaded; swanctl --initiate's wall time 0.44-0.62 s quiet, 1.6-4.6 s
//     loaded. iked initiating towards charon: 154 ms quiet (0.41-0.76 s
//     loaded) at iked's control socket, 94 ms quiet (0.24-0.48 s loaded) in
//     charon's log (first request to its CHILD_SA installed).
//   - IKEv1 main mode + quick mode (aes128-sha256-modp2048, ESP
//     aes128-sha256) charon against charon: 234 ms quiet, 0.98 s loaded.
//   - Stop: 0.06-0.1 s quiet, up to 1.5 s loaded.
//   - The lab tests: 8 s of VM time quiet (4.5 + 3.4 s), 24-54 s loaded.
//   - Image: +11.0 MB (charon, swanctl, 25 plugins, libcrypto, libgmp,
//     libsystemd and its compression libraries); boot time change below
//     the noise (testbed/lab/README.md).
//
// Linux only: on other systems LabFiles, Start and Available return an
// error. The lab test (strongswan_lab_test.go, build tag lab) runs charon
// against charon (IKEv2, then IKEv1 main mode) and against ikectx's iked
// (PF_KEY, each side initiating once) with the real ESP.
package strongswan
