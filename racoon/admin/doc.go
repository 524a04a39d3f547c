// Package admin is racoon's admin port: the ipsec-tools 0.8.2 admin protocol
// over a Unix stream socket (what racoonctl(8) talks to), and ikectx's
// extension of it that exports and imports one phase-1 (ISAKMP) SA, so that
// another daemon can continue the IKE SA as if it had negotiated it.
//
// The layouts follow shared/notes/racoon-admin-protocol.md, which measured
// the C structs of ipsec-tools 0.8.2 on x86_64 (LP64). They are native
// structs in host byte order; the codec takes a *pfkey.Dialect for the byte
// order and the sockaddr form (Linux: 2-byte family; FreeBSD: sa_len and a
// 1-byte family). Both systems are LP64 on amd64 and arm64, so the sizes are
// the same.
//
// # The admin protocol
//
// Every message starts with struct admin_com (8 bytes, host order):
//
//	off size field
//	0   2    ac_len    total length including the header (low 16 bits)
//	2   2    ac_cmd    command; bit 15 is ADMIN_FLAG_VERSION in requests,
//	                   ADMIN_FLAG_LONG_REPLY in replies
//	4   2    ac_errno (int16, replies) / ac_version (requests, valid with
//	                   the VERSION flag) / ac_len_high (long replies)
//	6   2    ac_proto  ADMIN_PROTO_*
//
// One request per connection: the server reads the header (peek), then one
// read of ac_len bytes, answers with the request's command (version flag
// cleared) and proto, and closes, except when events are streamed. A reply
// longer than 0xffff bytes sets LONG_REPLY and carries the high 16 bits of
// the length in place of errno. racoonctl sends ADMIN_FLAG_VERSION|cmd with
// version 1.
//
// Commands of ipsec-tools 0.8.2 ([Command]) and what ikectx answers:
//
//	0x0001 RELOAD_CONF        Backend's ReloadConf if it implements [Reloader], else ENOTSUP
//	0x0002 SHOW_SCHED         ENOTSUP (ikectx has no scheduler dump)
//	0x0003 SHOW_EVT           events from an [EventSource]; ENOTSUP without one
//	0x0101 SHOW_SA            ISAKMP: struct ph1dump array ([Phase1Info]);
//	                          IPSEC/AH/ESP: SADB_DUMP messages as the kernel
//	                          sends them (last one with sequence 0; a single
//	                          header with errno ENOENT when there is none);
//	                          INTERNAL: ENOTSUP
//	0x0102 FLUSH_SA           ISAKMP, IPSEC, AH, ESP; INTERNAL ENOTSUP
//	0x0201 DELETE_SA          admin_com_indexes: deletes the phase 1s between src and dst
//	                          (as racoon, whatever the proto)
//	0x0202 ESTABLISH_SA       admin_com_indexes [+ NUL-terminated remote name]
//	0x0203 ESTABLISH_SA_PSK   admin_com_indexes + admin_com_psk + id + key
//	0x0204 DELETE_ALL_SA_DST  admin_com_indexes (dst only)
//	0x0205 LOGOUT_USER        ENOTSUP (a racoon built without hybrid auth)
//	0x0206 GET_SA_CERT        ENOTSUP for non-ISAKMP, ENOENT without a phase 1,
//	                          empty otherwise (ikectx has no certificates)
//	other                     ENOTSUP, as racoon's default case
//
// Errors of the Backend become errno values: a syscall.Errno as is,
// fs.ErrNotExist ENOENT, fs.ErrExist EEXIST, errors.ErrUnsupported ENOTSUP,
// fs.ErrPermission EPERM, fs.ErrInvalid EINVAL, anything else -1 (racoon's
// generic failure).
// Malformed requests (short payload, bad sockaddr, unknown proto) are
// answered with EINVAL and counted in [ServerStats]; they never stop the
// server.
//
// struct admin_com_indexes (264 bytes): prefs, prefd, ul_proto, reserved,
// 4 bytes of padding, src and dst as 128-byte sockaddr_storage.
// struct admin_com_psk (24 bytes): int id_type, 4 bytes padding, size_t
// id_len, size_t key_len; the id and key bytes follow.
// struct ph1dump (304 bytes): isakmp_index (i_ck[8], r_ck[8]) at 0, int
// status at 16, int side at 20, remote sockaddr_storage at 24, local at
// 152, version at 280, etype at 281, time_t created at 288, int ph2cnt at
// 296, 4 bytes of tail padding.
//
// # ikectx extension: phase-1 export and import
//
// No upstream command carries keys. ikectx adds two commands in the range
// 0x0c00-0x0cff, which ipsec-tools 0.8.2 does not use (its commands are
// 0x00xx, 0x01xx and 0x02xx, 0x08xx is reserved for privsep, and the
// rdratlos fork's ADMIN_STATUS/ADMIN_STATUS_VERBOSE are 0x0103/0x0104). A
// real racoon answers them with ENOTSUP.
//
//	0x0c01 EXPORT_PH1  request:  admin_com_indexes (src = local, dst = remote
//	                             address of the phase 1; port 0 matches any
//	                             port), optionally followed by a 16-byte
//	                             isakmp_index to pick one SA by its cookies.
//	                             proto ADMIN_PROTO_ISAKMP.
//	                   reply:    the Phase1Context encoding below.
//	                   Only a client with uid 0 may export (SO_PEERCRED on
//	                   Linux, getpeereid on FreeBSD); others get EPERM.
//	0x0c02 IMPORT_PH1  request:  admin_com_indexes (src = new local address,
//	                             dst = new remote address; family 0 keeps
//	                             the context's address), then the
//	                             Phase1Context encoding. uid 0 only.
//	                   reply:    none; errno EEXIST if an SA with these
//	                             cookies exists, EINVAL for a bad context.
//
// # Phase1Context encoding (version 1)
//
// The exported context travels between machines (pAR to nAR), so unlike the
// admin structs it is big-endian and has no padding or ABI dependence:
//
//	off size field
//	0   4    magic "IKP1"
//	4   2    encoding version (1)
//	6   2    total length in bytes, header included
//	8   8    initiator cookie
//	16  8    responder cookie
//	24  1    ISAKMP version (0x10)
//	25  1    exchange type (2 main, 4 aggressive)
//	26  1    side (0 initiator, 1 responder)
//	27  1    reserved (0)
//	28  2    encryption algorithm (RFC 2409 app. A: 1 DES, 5 3DES, 7 AES-CBC)
//	30  2    key length in bits (0: the cipher's only length)
//	32  2    hash algorithm (1 MD5, 2 SHA, 4 SHA2-256, 5 SHA2-384, 6 SHA2-512)
//	34  2    authentication method (1 pre-shared key)
//	36  2    Diffie-Hellman group
//	38  2    reserved (0)
//	40  4    flags (Phase1Flag*)
//	44  4    lifetime in seconds
//	48  8    creation time, Unix seconds (int64)
//	56  20   local address:  family (1 byte: 0, 4 or 6), reserved (1),
//	                         port (2), address (16; IPv4 in the first 4)
//	76  20   remote address, same form
//	96  ...  variable fields, each a 2-byte length then its bytes, in this
//	         order: local ID, remote ID (each: ID type, protocol, port (2),
//	         identification data, i.e. an ID payload body), initiator
//	         nonce, responder nonce, SKEYID_d, SKEYID_a, SKEYID_e,
//	         encryption key, phase-1 IV, remote configuration name (UTF-8);
//	         then a 2-byte count of per-exchange IVs, each a 4-byte message
//	         ID, a 2-byte length and the IV; then a 2-byte count of message
//	         IDs in use, each 4 bytes.
//
// Decoding checks the magic, the version, that the total length equals the
// input, every field length against the bytes left and its own bound, and
// that nothing follows the last field. Phase1Context.Wipe zeroes the keys;
// keys print as their length only.
package admin
