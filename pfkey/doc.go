// Package pfkey speaks PF_KEYv2 (RFC 2367) with the KAME extensions, as
// FreeBSD and Linux implement it: the wire codec, the key socket and the
// SAD/SPD operations built on it.
//
// # Codec
//
// A Message is the sadb_msg header plus one typed field per extension (nil
// when absent): SA, LifetimeCurrent/Hard/Soft, Src/Dst/Proxy (Address),
// AuthKey/EncKey (Key), SrcIdentity/DstIdentity, Sensitivity, Proposal,
// SupportedAuth/SupportedEnc, SPIRange, KMPrivate, Policy (X_POLICY with
// its IPSecRequests), SA2, the NAT-T ones (NATTType, NATTSport, NATTDport,
// NATTOAI, and FreeBSD's NATTOAR, NATTFrag), FreeBSD's SAReplay,
// NewSrc/NewDst, and Linux's SecCtx, KMAddress, Filter. Extensions the
// dialect does not know are kept in Message.Unknown and re-encoded as
// they were.
//
// The two systems encode some things differently, so every encoding
// function belongs to a Dialect: Linux and FreeBSD (and Native, the
// running system's). The differences are the sockaddr layout (BSD sa_len),
// sadb_x_ipsecrequest (16 bytes with a 32-bit reqid on Linux, 8 bytes with
// a 16-bit reqid on FreeBSD), the extension numbers above 23, the address
// family numbers (AF_INET6 10 or 28), PF_KEY (15 or 27), the SPI range byte
// order, and some algorithm numbers and names (Dialect.LookupAuth,
// LookupEnc, LookupComp, AuthName, EncName).
//
//	b, err := pfkey.Linux.Marshal(msg)      // or Append(buf, msg)
//	msg, err := pfkey.FreeBSD.Unmarshal(b)   // strict: lengths, duplicates
//
// Decoding never panics; errors are *ParseError naming the dialect, the
// message type, the extension and the offset. Decoded messages own their
// bytes. SPIs and NAT-T ports are plain numbers in the structs (the codec
// handles their network byte order on the wire). Message.Wipe zeroes keys.
//
// Constants follow the C names: MsgAdd (SADB_ADD), MsgXSPDAdd
// (SADB_X_SPDADD), SATypeESP, ExtAddressSrc, AuthSHA1HMAC, EncAESCBC,
// ModeTunnel, DirOutbound, PolicyIPsec, LevelRequire, ProtoESP, ...
//
// # Socket
//
// Open returns a Conn on the system's key socket (Linux, FreeBSD). Conn.Do
// sends a request and returns the reply that matches its sequence number
// and pid (the socket also receives other processes' broadcasts), or an
// *Error when the kernel sets sadb_msg_errno: the error names the message
// ("pfkey: SADB_ADD esp 2001:db8::1->2001:db8::2 spi 0x1000: file exists")
// and errors.Is(err, unix.EEXIST) holds. Conn.DoMulti iterates multi-part
// replies (DUMP, SPDDUMP). Deadlines come from the context.
//
// # SAD and SPD
//
// SAEntry is one SA in a form that is easy to copy between kernels: type,
// SPI, addresses, mode, reqid, algorithms, Keys (the only holder of key
// bytes, with Wipe; String never prints keys), lifetimes and NAT-T. The
// Conn methods Add, Update, Delete, Get, GetSPI, Flush and Dump work on
// SAEntry; SPDAdd, SPDUpdate, SPDDelete, SPDDeleteID, SPDGet, SPDFlush and
// SPDDump on PolicyEntry (selector, direction, action and IPSecRequests).
// SAsFor and PoliciesFor return the entries that involve one address,
// keys included, for context transfer. Register and Listen deliver the
// kernel's ACQUIRE, EXPIRE and SPDEXPIRE messages.
//
// # What the Linux kernel does (measured in the kernel lab, Debian 6.1)
//
//   - Errors come back as a reply with sadb_msg_errno; GET and DELETE of a
//     missing SA give ESRCH, SPDDELETE/SPDGET of a missing policy ENOENT
//     (IsNotExist covers both), a duplicate ADD or SPDADD EEXIST, a bad key
//     length EINVAL. An empty DUMP/SPDDUMP is an ENOENT reply, which DoMulti
//     turns into an empty iteration.
//   - Dump parts carry the requester's pid and sequence numbers counting
//     down to 0 (the last part), not the request's sequence number.
//   - ADD, UPDATE, DELETE, SPDADD and FLUSH replies are broadcast to every
//     PF_KEY socket; Conn matches its own by type, seq and pid.
//   - sadb_spirange min/max are read in host byte order (unlike sadb_sa_spi).
//   - AEAD algorithms (AES-GCM) cannot be installed through PF_KEY: af_key
//     answers ENOSYS. Use AES-CBC/CTR with an HMAC, or XFRM netlink.
//   - The replay window is capped at 32 packets; sadb_x_sa2_sequence is
//     ignored on ADD and reported as 0. Sequence counters of a live SA are
//     only reachable through XFRM netlink. The current lifetime carries the
//     byte and packet counters.
//   - A "use" (optional) tunnel-mode request in an outbound policy is
//     rejected with EINVAL; "unique" reqids above ReqIDManualMax are
//     replaced by kernel-allocated ones.
//   - ACQUIRE carries the addresses, the policy (dir, id) and a proposal
//     with no combinations for policies installed through PF_KEY. Loopback
//     has disable_xfrm=1, so traffic on lo never triggers ACQUIRE.
//   - REGISTER lists only the algorithms whose modules are loaded.
//   - SA soft and hard expiry send EXPIRE to registered sockets; a policy's
//     hard lifetime deletes it without any message (af_key's
//     key_notify_policy_expire is empty), so X_SPDEXPIRE is FreeBSD only.
//   - An ADD with a hard lifetime and no soft one is refused with EINVAL:
//     send both (soft no larger than hard). Found by ipsecmod and iked.
//   - HMAC-SHA2-256 installed through PF_KEY gets a 96-bit ICV, not RFC
//     4868's 128 bits: such an SA only talks to peers that truncate the
//     same way (found by iked against the lab); use HMAC-SHA1 or XFRM.
package pfkey
