// Package transport carries CXTP messages: ICMPv6 type 150 subtype 1
// between MN and AR (hop limit 255 sent and required), SCTP on port 5091
// between ARs (one-to-many socket, unordered delivery) and UDP on port 5091
// as the AR <-> AR fallback. All three implement Conn.
//
// It also holds the pure retransmission logic the engines use: the
// CT_REQUEST_RETRY back-off schedule (Backoff) and the CT_REQUEST_RATE
// limiter (RateLimiter), both with an injectable clock.
package transport
