// Package daemon is ikectx's racoon: the IKEv1 daemon that `racoon` (without
// -t) runs.
//
// # Structure
//
// New reads racoon.conf (racoon/conf), opens the kernel (PF_KEY through
// pfkey: one socket for requests, one registered Listener for ACQUIRE and
// EXPIRE) or, with Options.NoKernel, an in-memory SAD (and an SPD read from
// a setkey file, Options.PolicyFile), binds the ISAKMP sockets (UDP 500, and
// 4500 for NAT traversal) with a per-socket IPsec bypass policy, and opens
// the admin socket (racoon/admin) with this daemon as its Backend. Run
// starts one reader goroutine per socket and one event loop that owns all
// state: every phase 1 (ike.Phase1) and phase 2 (ike.Phase2), the timers
// (retransmissions per `timer { counter; interval; }`, lifetimes) and the
// admin requests, which are posted to the loop as closures. Nothing else
// touches the SAs, so there is no locking around them.
//
// # Flows
//
//   - ACQUIRE (or establish-sa esp): the policy gives the selectors, the
//     mode, the tunnel endpoints and the reqid; an established phase 1 with
//     the peer is reused, else one is started (the first exchange_mode of
//     the remote) and the request waits for it. Quick mode starts as soon as
//     phase 1 is up.
//   - Quick mode done: GETSPI gave the inbound SPI, UPDATE completes the
//     inbound SA and ADD installs the outbound one, both with the policy's
//     reqid, the agreed lifetime (soft at 80 %) and, behind a NAT, UDP
//     encapsulation.
//   - Responder: the remote block of the peer's address (or anonymous), the
//     sainfo of the client IDs, the matching kernel policy for the mode and
//     reqid, generate_policy when asked.
//   - Soft EXPIRE of a pair this end initiated: a new quick mode; hard:
//     forgotten (the kernel removed it).
//   - INITIAL-CONTACT (sent after every phase 1 when initial_contact is on,
//     as racoon): older phase 1s with the peer and the IPsec SAs between the
//     two addresses not negotiated under the new phase 1 are purged.
//   - DELETE: ISAKMP (the phase 1 goes), ESP/AH (both SAs of the pair go).
//
// Bad datagrams are dropped, counted (Stats) and logged with the peer and
// the exchange; a recover guards the loop. Keys are never logged.
package daemon
