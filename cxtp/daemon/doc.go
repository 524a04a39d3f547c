// Package daemon is cxtpd, the CXTP module of the paper's Figure 3: the
// engines of cxtp/engine between the network (ICMPv6 to MNs, SCTP or UDP
// 5091 to peer ARs, cxtp/transport) and the context modules (POSIX shared
// memory + signals, package shm), with a TOML configuration and a
// unix-socket control command. cmd/cxtpd is a thin main over Main.
//
// # Configuration (TOML; examples/cxtpd/*.toml are annotated)
//
//	role            "ar" or "mn"
//	address         AR: its AR-AR address; MN: its current care-of address
//	access_address  AR: its address on the access link (default address)
//	interface       the access-link interface (checked at start)
//	port            AR-AR port, SCTP and UDP (5091)
//	control         control socket path
//	[shm]           name (segment), slots (64)
//	[timers]        context_lifetime (30s), max_transfer_time (200ms),
//	                request_retry (2s), retry_max (15s), request_rate (10),
//	                seq_window (7s), module_timeout (1s), give_up (45s, MN),
//	                after_ack_delay (0s: how long the nAR waits after the
//	                CTAA before the after_ack activations and the CTDR)
//	[security]      allow_plaintext (false), skip_spd_check (false: with
//	                cmd/cxtpd, a peer's protected = true is checked against
//	                the kernel SPD through PF_KEY before key material goes
//	                to it; see protection.go)
//	[log]           level (debug|info|warn|error), file (stderr)
//	[[peer]]        address, access_addresses, transport ("sctp"|"udp"),
//	                port, protected
//	[[mn]]          address (the MN's CoA here), key (hex token key)
//	[[module]]      name, fpts, key_material, shm (own segment; default
//	                shm.name, or shm.name-NAME with several modules),
//	                after_ack (FPTs the nAR activates after the CTAA: the
//	                IKE SA, which does not carry the MN's traffic). A
//	                CTAR's other FPTs of one module are activated in one
//	                round through its segment (one wake-up signal)
//	[mobile]        MN role: ar (current AR), key, fpts (requested; empty=all),
//	                move_ipsec (the MN's own SAD/SPD moved by this daemon:
//	                prepared on `handover NAR NEWADDR` or while the CTAR is
//	                on its way, switched in the CTAA's receive path; see
//	                mover.go; cmd/cxtpd links ipsecmod's over PF_KEY)
//
// `cxtpd -t -c FILE` checks a file: every error names FILE:LINE:COL and the
// key; unknown keys are errors.
//
// # Modules (shm protocol, one segment per module)
//
// cxtpd is the segment's CXTP role. On the pAR it posts CAPTURE (MN, FPT)
// and expects the context as result data; on the nAR PREINSTALL (data: the
// context), ACTIVATE (data: the MN's new care-of address, 16 or 4 octets)
// and DISCARD. A result status other than OK fails that FPT. Each call is
// bounded (capture by max_transfer_time, the others by module_timeout); an
// unanswered request is withdrawn.
//
// # Control commands
//
// See control.go; `cxtpd status -c FILE` prints the counters: contexts
// stored, activated, expired, cancelled, rejected by reason, messages sent
// and received by type, transport and shm counters.
package daemon
