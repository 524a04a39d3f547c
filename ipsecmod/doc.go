// Package ipsecmod is the IPsec-CXTP module of the paper (sections 3.1,
// 3.2.3 and 4.2): the IPsec, IKEv1 and IKEv2 context models, their
// transfer encoding in CXTP Context Data Blocks, and the operations on
// the routers' and the MN's kernels: Capture on the pAR, PreInstall with
// address rewrite, Activate and Discard on the nAR, RewriteMN on the MN.
// ipsecmod/daemon and cmd/ipsec-cxtpd make it the second process of the
// paper's Figure 3; README.md answers the design questions in prose.
//
// # Feature Profile Types
//
// No FPT is registered for IPsec or IKE. Four values from the unassigned
// range are used, all configurable ([fpt] in ipsec-cxtpd's TOML, FPTs in
// Config), the defaults being cxtp's constants:
//
//	0x8001  ipsec-sa  the MN's SAD entries, keys included   (KindSA)
//	0x8002  ipsec-sp  the MN's SPD entries                  (KindSP)
//	0x8003  ikev1     the IKEv1 phase-1 SA (racoon export)  (KindIKEv1)
//	0x8004  ikev2     the IKEv2 SA and PAD entry (3.1)      (KindIKEv2)
//
// cxtpd calls the module once per FPT: what an FPT carries is one context
// (Context.Marshal): a header record then one record per entry.
// Context.CDBs builds one CDB per record for senders that control block
// boundaries (a record over 2036 octets continues in the next blocks of
// its FPT); cxtpd's engine instead frames each FPT's context with a length
// and splits it at 2036 octets. Both decode with Unmarshal / FromCDBs.
//
// # Record layouts (version 1, big-endian, no implicit padding)
//
// Every record starts with type (1 header, 2 SA, 3 policy, 4 IKEv1,
// 5 IKEv2), version (1) and its total length in octets (16 bits), and is
// decoded strictly: unknown version, bad length, reserved octets not
// zero, unknown option bits, trailing octets are errors. Up to 7 zero
// octets between records are skipped (the padding of a CDB holding one
// record). Addresses take 20 octets: family (0, 4 or 6), reserved, port
// (16 bits), address (16 octets, IPv4 in the first 4).
//
// Header (56 octets): 0 type 1 | 1 version | 2 length 56 | 4 number of
// records that follow (16) | 6 the capturing system's dialect (0 unknown,
// 1 Linux, 2 FreeBSD) | 7 reserved | 8 capture time, Unix seconds (64) |
// 16 the MN's previous CoA | 36 the pAR's tunnel endpoint. Between
// systems of different dialects the nAR adapts the policy directions:
// Linux checks forwarded packets against forward policies, FreeBSD
// against inbound ones, so a FreeBSD pAR's inbound IPsec policies get a
// forward twin on a Linux nAR and a Linux pAR's forward policies are
// dropped on a FreeBSD nAR. SA algorithm numbers are translated by name.
//
// SA (112 octets + options + keys):
//
//	  0  type 2, version, length (4)
//	  4  dialect of the algorithm numbers (1 Linux, 2 FreeBSD)
//	  5  SA type (PF_KEY: 2 AH, 3 ESP, 9 IPComp)   6 mode   7 state
//	  8  SPI (32)   12 reqid (32)   16 sadb_sa_flags (32)
//	 20  replay window (packets, 8)   21 upper-layer protocol   22 auth alg
//	 23  enc alg (IPComp: compression alg)
//	 24  replay window over 255 (FreeBSD SA_REPLAY, 32; 0 none)
//	 28  sequence (sadb_x_sa2_sequence, 32)
//	 32  auth key bits (16)  34 enc key bits (16)
//	 36  auth key octets A (16)  38 enc key octets E (16)   (each <= 512)
//	 40  options: bit 0 hard lifetime, bit 1 soft lifetime, bit 2 NAT-T
//	 41  reserved (3)
//	 44  current allocations (32)  48 current bytes (64)
//	 56  age: seconds the SA had existed at capture (64)
//	 64  seconds since its first use at capture, 0 never used (64)
//	 72  source address (20)   92 destination address (20)
//	112  [hard lifetime (32): allocations 32, reserved 32, bytes 64,
//	     add time 64, use time 64] [soft lifetime (32)]
//	     [NAT-T (48): type 8, reserved 8, sport 16, dport 16, frag 16,
//	     OAI (20), OAR (20)]
//	     auth key (A octets), enc key (E octets)
//
// Policy (64 octets + options + 48 per request):
//
//	 0  type 3, version, length (4)
//	 4  direction (1 in, 2 out, 3 fwd)   5 upper-layer protocol (255 any)
//	 6  policy type (16: 0 discard, 1 none, 2 ipsec)
//	 8  priority (32)   12 the pAR's kernel id, informative (32)
//	16  source prefix length   17 destination prefix length   18 scope
//	19  number of ipsec requests N (<= 32)
//	20  options: bit 0 hard lifetime, bit 1 soft lifetime   21 reserved (3)
//	24  source selector (address with port, 20)  44 destination (20)
//	64  [hard lifetime (32)] [soft lifetime (32)] then N requests:
//	    protocol (50 ESP, 51 AH, 108 IPComp), mode, level, reserved,
//	    reqid (32), tunnel source (20), tunnel destination (20)
//
// IKEv1: type 4, version, length, then racoon/admin's Phase1Context
// encoding ("IKP1", its own version and length; see racoon/admin).
//
// IKEv2: the layout in package ikev2ctx (type 5): SPIs, role, transforms,
// lifetime, age, message IDs, addresses, SKEYSEED and/or SK_d, SK_ai,
// SK_ar, SK_ei, SK_er, SK_pi, SK_pr, Ni, Nr, the PAD entry (identity,
// authentication method, secret or certificate) and the child SAs
// (protocol, mode, SPIs, transforms, lifetime, reqid, traffic selectors).
// The IKEv2 daemon fills it through the IKEv2Daemon interface (Iked:
// iked's control socket, export-peer / import / repair).
//
// # Keys
//
// Key bytes live in exactly one owner: pfkey.SAEntry.Keys for SAs,
// admin.Phase1Context's Secrets for IKEv1, ikev2ctx.SA's Secrets for
// IKEv2. Context.Wipe zeroes them all; the module wipes a context as soon
// as the kernel or the IKE daemon holds it (activation), on discard and on
// expiry, and clears every encoded buffer after use. String, %v and %#v
// print key lengths only; errors and logs name the MN and the SA (type,
// addresses, SPI), never key bytes.
//
// # Operations
//
// Capture (pAR): SAsFor(MN) with keys, PoliciesFor(MN), racoon's
// EXPORT_PH1 for (this router, MN) when an admin socket is configured.
// Each SA's age is taken from its current lifetime.
//
// PreInstall (nAR): decode, check the MN, keep. When the nCoA is known
// (reactive mode) or predicted (Config.Predict: the nAR's access prefix
// plus the previous CoA's interface identifier), install the SAs now with
// addresses rewritten (pCoA -> nCoA, pAR -> nAR), after checking SPI
// collisions; build the rewritten policies and give them a priority value
// one below the nAR's discard policies that cover them (lower wins on
// Linux and FreeBSD; among equals the older policy wins, which is the
// discard). Policies are not installed. When the nCoA is neither known
// nor predicted, PreInstall still reads the SAD (collisions on what is
// known: the SPI, and the nAR as destination of the MN's outbound SAs)
// and the nAR's discard policies, so that activation reads neither.
//
// Activate (nAR, CTAR verified; data: nCoA): SAs: nothing when installed
// for this nCoA, else installed now; policies: SADB_X_SPDADD each (from
// here the MN's traffic flows); IKEv1: IMPORT_PH1 into racoon with local =
// this router, remote = nCoA (ports kept), so the MN can rekey with a
// quick mode only. The decoded context is then wiped.
//
// Discard (nAR; CTC or the context's lifetime): removes the pre-installed
// SAs and forgets the rest; a context that is never activated nor
// discarded is removed after Config.Lifetime (60 s).
//
// Transferred (pAR, after CTDR): by default the MN's SAs and policies are
// kept until their lifetimes (a fast return finds them; deleting them
// would make racoon send the MN a DELETE for SAs it now shares with the
// nAR). DeleteOnTransfer deletes them.
//
// RewriteMN (MN): SAs re-added at the new addresses with the same SPIs,
// keys and algorithms, then the old ones deleted; policies likewise. The
// same move split around the CTAR (MNPlan): PrepareMN installs the new
// policies and the SAs towards the MN (before the move when the handover
// is predicted); on Linux it also parks the MN's outbound SAs under a
// reqid no policy uses, so that Activate, on the CTAA, is one
// SADB_X_SPDUPDATE making the outbound policy `unique` with that reqid
// (the kernel then sends at once the packets it held for the missing SA,
// with net.core.xfrm_larval_drop = 0); elsewhere Activate adds the held
// SAs. Retire deletes the old entries.
//
// # SPI collisions (paper 3.2.3)
//
// LookupRule is the nAR's SAD lookup: RuleSPI (case 1: the SPI alone),
// RuleSPIDst (case 2, per protocol: Linux's xfrm_state_lookup(daddr, spi,
// proto) and FreeBSD's key_allocsa(dst, proto, spi), the default),
// RuleSPIDstSrc (case 3). Before installing, the module reads the nAR's
// SAD and skips each SA that collides under the rule; an EEXIST from the
// kernel is a collision too. With IKEv1 there is no in-band repair: the SA
// kind's activation fails with ErrCollision (shm StatusCollision, so the
// CTAA reports the FPT), the collision is logged and listed in the status
// output, and racoon is asked (ESTABLISH_SA through the admin socket) for
// a quick mode for the MN's outbound policy, which starts a phase 1 when
// needed. An IKEv1 SA whose cookies racoon already has (IMPORT_PH1 EEXIST)
// is handled the same way. With an IKEv2 context (Config.IKEv2, the Iked
// client) inbound ESP collisions of the transferred children are not
// handed to racoon: the SA kind activates without them and the IKEv2
// kind's activation imports the IKE SA into iked and runs Algorithm 1
// (UPDATE_SA_ADDRESSES with an UPDATE_SPI per colliding SPI, IKE SPI
// included; see ikev2.go for who installs what).
//
// # Anti-replay and sequence numbers
//
// Linux's PF_KEY cannot carry them: the replay window is capped at 32,
// sadb_x_sa2_sequence is ignored on ADD and reads back as 0, and the
// counters of a live SA are only reachable through XFRM netlink
// (XFRMA_REPLAY_VAL / XFRMA_REPLAY_ESN_VAL). FreeBSD's PF_KEY carries a
// larger window (SA_REPLAY) but not the counters either. The SA record
// carries the window, the sequence field and the current byte/packet
// counts all the same, so a backend that can set them may.
//
// Over PF_KEY both ends therefore restart the SA state together: the SAs
// the nAR installs start with sequence 0 and an empty window, and so do
// the MN's, because RewriteMN deletes and re-adds them (an SA's addresses
// cannot change in place). Neither side drops valid packets as replays:
// the MN's outbound and the nAR's outbound both count from 1 against fresh
// windows. The cost is that sequence numbers are reused under the same
// keys, so packets recorded on the pAR's link could be replayed once to
// the nAR: the MN should rekey soon after the handover (with IKEv1 a quick
// mode under the transferred phase 1 suffices).
//
// # Measured Linux behaviour (kernel lab, Debian 6.1)
//
// SADB_ADD with a hard lifetime and no soft one is refused with EINVAL
// (af_key leaves the missing soft limits infinite, above the hard ones).
// The module always installs soft limits no larger than the hard ones.
package ipsecmod
