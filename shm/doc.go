// Package shm is the channel between the two modules of the paper's Figure 3
// (section 4.2): the CXTP module (cxtpd, RFC 4067) and a context module (for
// IPsec: ipsec-cxtpd). The modules share a POSIX shared memory segment that
// holds a fixed table of context slots, and wake each other with signals.
// shm knows nothing about CXTP or IPsec: a slot carries an operation, a
// Feature Profile Type (FPT), the mobile node's address and opaque data.
//
// # Object
//
// The segment is a POSIX shared memory object with shm_open semantics. On
// Linux it is the file /dev/shm/NAME (open with O_CREAT|O_EXCL|O_RDWR|
// O_NOFOLLOW|O_CLOEXEC, mode 0600, ftruncate, mmap MAP_SHARED). On FreeBSD it
// is created with the shm_open2 system call (number 571, arguments path,
// flags, mode, shmflags, name; flags O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, mode
// 0600, shmflags 0, name NULL). NAME is "/name" as for shm_open(3); a name
// without the leading slash gets one. The first process to open a name
// creates and initializes it; later ones attach and must find the same
// geometry. Unlink removes the name (the mapping of running processes stays).
//
// # Layout
//
// All integers are in the host's byte order (both modules run on one host),
// and every field used atomically is naturally aligned: the mapping is
// page-aligned, the header is 64 bytes and a slot is a multiple of 64 bytes.
// The golden tests write the bytes of a little-endian host.
//
// Header, 64 bytes at offset 0:
//
//	off size field
//	  0   8  magic "IKECXSHM" (stored last, atomically, when the creator is done)
//	  8   4  layout version (1)
//	 12   4  header size (64)
//	 16   4  slot count N (1..4096)
//	 20   4  slot size S in bytes (see below)
//	 24   4  max data D per slot (1..1048576; the whole segment at most 1 GiB)
//	 28   4  CRC32C (Castagnoli) of bytes 0..27
//	 32   4  PID of the CXTP module     (0 = not running)  atomic
//	 36   4  PID of the context module  (0 = not running)  atomic
//	 40   4  registration epoch of the CXTP module   (+1 on each start) atomic
//	 44   4  registration epoch of the context module (+1 on each start) atomic
//	 48   8  doorbell of the CXTP module: results published for it    atomic
//	 56   8  doorbell of the context module: requests published for it atomic
//
// Slot i starts at 64 + i*S. A slot is a 16-byte slot header followed by two
// record copies (copy 0 at offset 16, copy 1 at 16+R), where
// R = align8(48 + D) and S = align64(16 + 2*R):
//
//	off size field
//	  0   8  control word, atomic:
//	           bits  0..7  state (FREE 0, WRITING 1, REQUEST 2, WORKING 3, DONE 4)
//	           bit   8     committed copy (0 or 1)
//	           bits  9..15 zero
//	           bits 16..31 low 16 bits of the committed copy's sequence
//	           bits 32..63 generation: +1 on every state change
//	  8   4  PID of the last process that claimed the slot (diagnostic)
//	 12   4  reserved, zero
//
// A record copy, R bytes:
//
//	off size field
//	  0   4  sequence: the generation at which this copy was committed
//	  4   1  operation (CAPTURE 1, PREINSTALL 2, ACTIVATE 3, DISCARD 4; others
//	         are passed through, 0 is invalid)
//	  5   1  MN address family: 0 none, 4 IPv4, 6 IPv6
//	  6   2  FPT
//	  8   2  status (0 in requests; result code in results, see Status)
//	 10   2  flags, zero (reserved)
//	 12   4  data length L (0..D)
//	 16  16  MN address (IPv4 in the first 4 bytes, the rest zero)
//	 32   8  tag: the CXTP module's cookie, copied into the result
//	 40   4  reserved, zero
//	 44   4  CRC32C of bytes 0..43 followed by the L data bytes
//	 48   D  data (bytes after L are not covered and not read)
//
// # Slot states (Figure 3)
//
// A slot has exactly one writer at a time; the writer is fixed by the state,
// and a state change is a compare-and-swap of the whole control word (the
// generation in it rules out ABA).
//
//	        CXTP: Post (CAS)                 CXTP: publish (CAS, flips copy)
//	FREE ───────────────────▶ WRITING ─────────────────────────────▶ REQUEST
//	 ▲  ▲                       │ writer died: rolled back to FREE     │ │
//	 │  └───────────────────────┘                                      │ │
//	 │  CXTP: Release (cancel an unanswered request)                   │ │
//	 ├─────────────────────────────────────────────────────────────────┘ │
//	 │                                      context module: Accept (CAS) │
//	 │                                                                   ▼
//	 │  CXTP: Release          context module: Complete (CAS, flips copy)
//	DONE ◀───────────────────────────────────────────────────────── WORKING
//	                                writer died: rolled back to REQUEST ──▶
//
// On the previous access router the CXTP module posts CAPTURE (MN address,
// FPT) and the context module answers with the MN's context as data. On the
// new router the CXTP module posts PREINSTALL with the received context, then
// ACTIVATE (data: e.g. the MN's new care-of address, module-defined) or
// DISCARD, and the context module answers with a status. The result keeps
// the request's operation, FPT, MN address and tag.
//
// # Using it
//
// The CXTP module:
//
//	seg, err := shm.Open("/ikectx", shm.RoleCXTP, nil)
//	ev, err := seg.Events(ctx)
//	id, err := seg.Submit(shm.Request{Op: shm.OpCapture, FPT: fpt, MN: mn, Tag: tag})
//	for e := range ev { // e.State == StateDone: e.Rec is the result
//		... e.Rec.Tag, e.Rec.Status, e.Rec.Data ...
//		seg.Release(e.Slot)
//	}
//
// Release wipes both copies of the slot (contexts carry key material) before
// freeing it. A request can be withdrawn with Release while it is still REQUEST.
// The context module:
//
//	seg, err := shm.Open("/ikectx", shm.RoleContext, nil)
//	ev, err := seg.Events(ctx)
//	for e := range ev { // e.State == StateRequest
//		req, err := seg.Accept(e.Slot) // error: withdrawn, or corrupt (already answered)
//		if err != nil { continue }
//		status, data := perform(req)
//		seg.Complete(e.Slot, status, data)
//	}
//
// Inspect and ParseImage decode a segment without taking part, for status
// reports; Stats counts the receiver's scans, signals and recoveries.
//
// # Torn writes
//
// A writer never writes the committed copy: it fills the other copy (data,
// then the header fields, then the checksum) and publishes it with one
// atomic compare-and-swap of the control word that moves to the next state
// and flips the committed-copy bit. A reader loads the control word, reads
// the committed copy, checks its checksum and that the low 16 bits of its
// sequence are the ones the control word names, and loads the control word again (seqlock): if
// it changed the read is retried later; if it did not and the checks fail,
// the slot is reported corrupt and its contents are not used.
//
// # Signals
//
// SIGUSR1 wakes the context module; SIGUSR2 wakes the CXTP module. After a
// publish the writer sends the signal to the peer PID read from the header
// (Submit and Complete do it; Post and Reply do not, and Wake sends one
// signal for any number of them). A receiver (Events) scans the whole table
// on every signal and also on a periodic rescan tick, so signals that are
// lost, coalesced by the kernel or sent before the peer was running lose
// nothing. Each slot state change is reported once. A process registers its
// signal handler before it publishes its PID, so no wake-up can kill it, and
// wakes its peer once registered, so that a result published by a
// predecessor that died before sending its signal is seen at once.
//
// # Crashes
//
// Either module may die at any point and be restarted. Committed states
// (REQUEST, DONE) are never lost: their committed copy is never written.
// The transient states are recovered: a slot in WRITING whose CXTP module is
// gone is freed (the request was never published, Post did not return), and
// a slot in WORKING whose context module is gone is rolled back to REQUEST,
// its last committed contents (the request), so the restarted module performs
// the operation again (operations must be idempotent). A module is gone when
// its registered PID does not exist (kill(pid, 0) fails with ESRCH) or has
// exited and waits to be reaped: on Linux state Z (or X) in /proc/PID/stat,
// on FreeBSD ki_stat SZOMB (5) in the struct kinfo_proc that sysctl
// kern.proc.pid.PID returns (the 1088-byte layout of amd64 and arm64,
// offsets in kinfo.go; a 32-bit FreeBSD record is not decoded, and there a
// zombie counts as alive until it is reaped). The survivor checks on every
// scan, and a restarting module, after registering its new PID, recovers
// the transient slots of its dead predecessor. A PID that was reused by an
// unrelated process looks alive: its slots wait until the module restarts.
// Open refuses a role whose registered PID is alive.
package shm
