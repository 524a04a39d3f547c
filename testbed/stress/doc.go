// Package stress is the stress test of issue 6 section 4: many mobile
// nodes (200 by default) with random SPIs handed over to one new access
// router (nAR) whose SAD is already full of SPIs that collide with theirs.
//
// Every MN is an in-process ikev2.Manager with an IKE SA and child SA(s)
// to the pAR (a real IKE_SA_INIT + IKE_AUTH over an in-memory wire). The
// pAR's ipsecmod captures each MN's contexts (SA 0x8001, SP 0x8002, IKEv2
// 0x8004) as the bytes CXTP carries; the nAR's ipsecmod pre-installs and
// activates them, skipping SAs that collide under the configured SAD lookup
// rule, and its IKEv2 activation imports the IKE SA into the nAR's Manager
// and runs the paper's Algorithm 1 (ikev2.Manager.RepairSPIs): one
// INFORMATIONAL with UPDATE_SA_ADDRESSES and an UPDATE_SPI for every
// colliding SPI of the MN (ESP and IKE), new SPIs from GETSPI on the nAR;
// after each round the ESP SPIs are re-checked against the nAR's SAD.
//
// Before the handovers the nAR holds, for a fraction of the MNs, an SA of
// another MN that the lookup rule cannot tell apart from the MN's
// transferred inbound SA (spi: any SA with the SPI, inbound or outbound;
// spi-dst: another MN's SA to the nAR; spi-dst-src: a stale SA of a previous
// holder of the MN's new CoA), an IKE SA of another MN holding the MN's IKE
// SPI, and the SAs and IKE SAs of other MNs that collide with nothing.
//
// The checks: one IKE SA per MN, with the nAR, whose SPIs and keys match
// the nAR's; on the nAR exactly one SA per (MN, child, direction) with the
// MN's keys, what the rule's lookup finds for the MN's packets is the MN's
// SA, no two SAs the rule cannot tell apart, no larval SA left, every
// pre-filled SA and IKE SA untouched; and traffic: in memory each SA the
// MN sends with is the one the nAR's lookup finds (and back), in the lab
// (Lab backend, Linux PF_KEY in namespaces) a UDP datagram per MN crosses
// ESP both ways and the nAR's inbound SA of that MN counts its bytes.
//
// The memory SAD can enforce on Add and GETSPI a looser rule than the one
// in force (Options.KernelRule: a Linux nAR configured with rule spi): an
// SPI from GETSPI can then collide under the rule, which the re-check after
// each round finds, and Algorithm 1 needs several round trips.
//
// The report gives the round trips per MN (histogram, fallbacks to a full
// negotiation), the collisions found, the times per MN and in all, and
// memory. Run it with `go run ./cmd/testbed stress` (memory) or
// `go run ./cmd/testbed stress --lab` (kernel lab); tests:
// `go test ./testbed/stress/` and
// `go run ./cmd/testbed lab test ./testbed/stress`. Measured figures are in
// ikev2/README.md.
package stress
