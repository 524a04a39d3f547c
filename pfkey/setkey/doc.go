// Package setkey implements the language of setkey(8) from ipsec-tools 0.8.2
// (and the FreeBSD base system's dialect where it differs) on top of package
// pfkey.
//
// A script is parsed completely before anything is sent to the kernel:
// [Parse] turns the text into a [Script] of typed statements, checking
// addresses, protocols, algorithm names and key lengths, and reports the first
// problem as an [*Error] that prints as "file:line:col: message". [Build] maps
// each statement onto the PF_KEYv2 messages of one kernel dialect (Linux or
// FreeBSD), and [Run] sends them over a pfkey.Conn, printing dump output in
// setkey's own format ([FormatSA], [FormatPolicy]).
//
// Supported statements: add, get, delete, deleteall, flush, dump, spdadd,
// spdupdate, spddelete, spdflush, spddump, exit/quit/bye. Where ikectx is
// deliberately stricter than ipsec-tools (each is a likely mistake that the
// kernel would reject or silently mis-handle) the rule is listed here:
//
//   - add/get/delete/deleteall need an SA protocol (esp, ah, ipcomp, ...);
//   - an esp SA needs -E, an ah SA takes only -A, an ipcomp SA only -C;
//   - spdadd/spdupdate need a policy action (discard, none, ipsec, ...);
//   - requests (proto/mode/...) are only allowed after the ipsec action;
//   - AES, Camellia and Twofish keys must be exactly 128, 192 or 256 bits.
//
// What the Linux kernel does differently (measured in the kernel lab):
//
//   - af_key installs only the kernel's "ealg" ciphers: AEADs (aes-gcm-*,
//     aes-ccm-*, null-aes-gmac) fail with ENOSYS, so Build refuses them for
//     Linux (use ip xfrm); FreeBSD takes aes-gcm-16 over PF_KEY;
//   - an ESP SA needs a KEY_ENCRYPT extension even for -E null (EINVAL
//     otherwise): Build sends a 0-bit key, as ipsec-tools does, and the
//     kernel's dumps then show no "E:" line;
//   - "-m any" (and ipcomp SAs) are stored and dumped as mode=transport;
//   - the replay window (-r) is capped at 32 packets;
//   - deleting without an SPI is not supported, so deleteall is a DUMP of the
//     SA type followed by one DELETE per matching SA;
//   - esp-old/ah-old and the KAME DES variants (des-deriv, des-32iv) do not
//     exist and are refused; the padding hints (-f) and -R are ignored, as
//     with ipsec-tools.
//
// Where ikectx is more lenient: a '#' comment inside a multi-line -P policy
// is skipped (ipsec-tools fails on it), and SA protocol names (esp, ah,
// ipcomp) are accepted as upper-layer protocols of spdadd, "icmp6 135"
// needs no ",code", CR characters count as blanks (CRLF files), and the
// algorithm names package pfkey knows for either system are accepted too.
//
// Keys are copied from the script into the messages; Script.Wipe and
// Run (for the messages) zero them. The verbose trace never prints key
// bytes; dumps (-D) print them, as setkey does.
package setkey
