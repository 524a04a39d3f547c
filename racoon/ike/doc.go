// Package ike is the IKEv1 protocol of ikectx's racoon: the RFC 2409 key
// schedule with pre-shared keys (Diffie-Hellman over the MODP groups of RFC
// 2409 and RFC 3526, the HMAC PRFs, SKEYID and SKEYID_d/a/e, appendix B key
// expansion, phase-1 and per-message-ID phase-2 IVs, HASH_I/HASH_R, the
// quick-mode HASH(1)(2)(3), KEYMAT with and without PFS) and the exchanges
// as explicit state machines that turn received datagrams into datagrams to
// send: main mode, aggressive mode, quick mode and informational exchanges,
// initiator and responder.
//
// The package does no I/O and keeps no timers: the daemon (racoon/daemon)
// owns the sockets, retransmissions and PF_KEY. Every key lives in one
// struct per SA (Phase1Keys, Phase2's KEYMAT) with a Wipe method and is
// never logged.
//
// IV chaining follows RFC 2409 appendix B as racoon does it: the phase-1 IV
// is hash(g^xi | g^xr) truncated to the cipher block, each encrypted
// phase-1 message's last cipher block is the next IV, and each phase-2 or
// informational exchange starts from hash(last phase-1 IV | message ID) and
// then chains on its own messages.
package ike
