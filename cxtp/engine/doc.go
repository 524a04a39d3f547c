// Package engine holds the CXTP (RFC 4067) state machines: the access
// router engine (AR), which plays the previous-AR and new-AR roles of both
// the predictive and the reactive modes of RFC 4067 section 5, and the
// mobile-node engine (MN).
//
// The engines know nothing of IPsec. Contexts are opaque bytes per Feature
// Profile Type (FPT), captured and installed by Handlers registered per FPT.
// They send through the small Net interface and receive through Handle*
// methods, so a test drives them with a fake network and a ManualClock.
//
// # AR engine, per MN (keyed by the MN's previous care-of address)
//
// Outgoing side (this AR is the pAR):
//
//	trigger (local API, or a CTAR from an MN still attached here naming the
//	nAR) -> Capture every FPT (deadline CT_MAX_TRANSFER_TIME) -> PCTD with
//	the token key -> [CTDR from the nAR: done]
//	CT-Req from a peer -> verify token and sequence number -> Capture -> CTD
//
// Incoming side (this AR is the nAR):
//
//	          PCTD (PreInstall)          CTAR, token ok (Activate)
//	(none) ───────────────────▶ stored ───────────────────────────▶ activated
//	  │                          │  lifetime (Discard) / CTC           ▲
//	  │ CTAR, no context         ▼                                     │
//	  └─────────────▶ requested ──── CTD / PCTD (PreInstall+Activate) ─┘
//	      (CT-Req, retransmitted CT_REQUEST_RETRY doubling to
//	       CT_RETRY_MAX, paced to CT_REQUEST_RATE; gives up after the
//	       context lifetime with a CTAA listing every FPT as failed)
//
// stored, expired and activated entries keep a tombstone for one lifetime:
// a CTAR for an expired context is rejected ("expired"), a CTAR for an
// activated one is answered again with the same CTAA but activates nothing.
//
// # Security
//
// Only configured peers are heard on the AR-AR channel. A CTAR whose token
// does not verify, whose sequence number was seen within the reuse window
// (7 s), or whose context expired is rejected, counted by reason, and
// nothing is activated (the stored context stays for the real MN). The
// token key and every context of an FPT registered with KeyMaterial go to a
// peer only when the Protection interface says the channel is protected
// (or AllowPlaintext is set, for tests). Key bytes are never logged.
//
// A CTAR for an MN the nAR holds nothing for creates an entry before any
// token check (only the pAR can check it). Such unauthenticated entries
// are bounded per CTAR source (MaxPendingPerSource, 16) and in all
// (MaxPending, a quarter of MaxEntries); a context arriving from the pAR
// evicts them first when the table is full, so a CTAR flood cannot push
// out stored contexts. Every refusal and eviction is counted by reason
// (ar_admit.go).
//
// # MN token input
//
// The token of a CTAR (and of the CT-Req that relays it) is
// First(32, HMAC-SHA1(key, previous CoA | sequence number | requested
// CDBs)), where the requested CDBs are the 4-octet header-only blocks the
// CTAR carries, one per requested FPT in the CTAR's order (none when all
// contexts are requested); see cxtp/request.go.
//
// # Timers
//
// CT_MAX_TRANSFER_TIME bounds each Capture on the pAR (a module that does
// not answer in time fails that FPT) and is the MN's first CTAR
// retransmission interval (doubling up to CT_RETRY_MAX). CT-Req uses
// CT_REQUEST_RETRY doubling up to CT_RETRY_MAX.
//
// # Concurrency
//
// An engine is safe for concurrent use; its state is guarded by one mutex
// and Handler methods are called with it held: they must not call back into
// the engine and should return quickly (the shm handler bounds each call).
package engine
