// Package traffic is the UDP load of the paper's experiment (section 4.3):
// a generator that sends one sequence-numbered, time-stamped datagram every
// 50 ms from the MN to the HA, and a sink that records each arrival as a
// JSON line {seq, sent, recv, src}, recv being the kernel's receive time
// stamp (SO_TIMESTAMPNS on Linux, SO_TIMESTAMP on FreeBSD) so that a record
// says when the datagram arrived, not when the sink got the CPU to read
// it. cmd/udpgen is a thin main over it.
//
// Payload (big endian), at least HeaderLen octets, padded with zeros to the
// requested size:
//
//	0      4      8                16               24
//	| "IKGN" | ver=1,rsv | seq (uint64) | sent (int64, Unix ns) |
package traffic

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Magic starts every payload.
const Magic = "IKGN"

// HeaderLen is the encoded header's length.
const HeaderLen = 24

// Version is the payload version.
const Version = 1

// Packet is one generated datagram's header.
type Packet struct {
	Seq  uint64
	Sent time.Time
}

// ErrShort, ErrMagic and ErrVersion are Decode's errors.
var (
	ErrShort   = errors.New("traffic: payload shorter than 24 octets")
	ErrMagic   = errors.New("traffic: payload does not start with IKGN")
	ErrVersion = errors.New("traffic: unknown payload version")
)

// AppendBinary appends the payload, padded with zeros to size octets
// (at least HeaderLen).
func (p Packet) AppendBinary(b []byte, size int) []byte {
	start := len(b)
	b = append(b, Magic...)
	b = append(b, Version, 0, 0, 0)
	b = binary.BigEndian.AppendUint64(b, p.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(p.Sent.UnixNano()))
	for len(b)-start < size {
		b = append(b, 0)
	}
	return b
}

// Decode reads a payload's header; trailing octets are padding.
func Decode(b []byte) (Packet, error) {
	if len(b) < HeaderLen {
		return Packet{}, ErrShort
	}
	if string(b[:4]) != Magic {
		return Packet{}, ErrMagic
	}
	if b[4] != Version {
		return Packet{}, fmt.Errorf("%w %d", ErrVersion, b[4])
	}
	return Packet{
		Seq:  binary.BigEndian.Uint64(b[8:]),
		Sent: time.Unix(0, int64(binary.BigEndian.Uint64(b[16:]))),
	}, nil
}

// ProbeBit set in a sequence number marks a probe: a datagram outside the
// generator's sequence (the testbed sends one the moment the MN's new
// tunnel opens). Sinks record probes like any datagram; Record.Probe
// tells them apart.
const ProbeBit = uint64(1) << 63

// Record is one arrival at the sink (one JSON line).
type Record struct {
	Seq  uint64 `json:"seq"`
	Sent int64  `json:"sent_ns"` // sender's clock, Unix ns
	Recv int64  `json:"recv_ns"` // arrival, Unix ns: the kernel's receive time stamp where there is one (Linux, FreeBSD), else the sink's clock at the read
	Src  string `json:"src"`     // the datagram's source address
}

// Probe says whether the record is a probe's (ProbeBit).
func (r Record) Probe() bool { return r.Seq&ProbeBit != 0 }

// ReadRecords reads JSON lines written by a sink; blank lines are skipped.
func ReadRecords(r io.Reader) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			return out, fmt.Errorf("traffic: record line %d: %w", n, err)
		}
		out = append(out, rec)
	}
	return out, sc.Err()
}

// SendConfig drives Send.
type SendConfig struct {
	To       netip.AddrPort // destination (the HA's sink)
	From     netip.Addr     // optional source; unset lets the kernel choose (it follows a new CoA)
	Interval time.Duration  // between datagrams (50 ms)
	Count    uint64         // stop after this many (0: no limit)
	Duration time.Duration  // stop after this long (0: no limit)
	Size     int            // payload octets (HeaderLen at least)
	FirstSeq uint64         // first sequence number (default 1 when 0)
}

// SendStats is what Send did.
type SendStats struct {
	Sent   uint64 // datagrams handed to the kernel
	Errors uint64 // sends the kernel refused (e.g. no SA yet): the sequence number is used anyway
	Last   uint64 // last sequence number used
}

// Send generates datagrams until the count, the duration or ctx ends. A
// refused send (no route, no SA) is counted and skipped: the sequence
// number is used up, so the sink sees the gap.
func Send(ctx context.Context, cfg SendConfig) (SendStats, error) {
	var st SendStats
	if !cfg.To.IsValid() {
		return st, errors.New("traffic: no destination")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 50 * time.Millisecond
	}
	if cfg.Size < HeaderLen {
		cfg.Size = HeaderLen
	}
	laddr := &net.UDPAddr{}
	if cfg.From.IsValid() {
		laddr.IP = cfg.From.AsSlice()
	}
	network := "udp6"
	if cfg.To.Addr().Unmap().Is4() {
		network = "udp4"
	}
	c, err := net.ListenUDP(network, laddr)
	if err != nil {
		return st, fmt.Errorf("traffic: socket: %w", err)
	}
	defer c.Close()
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	seq := cfg.FirstSeq
	if seq == 0 {
		seq = 1
	}
	dst := net.UDPAddrFromAddrPort(cfg.To)
	buf := make([]byte, 0, cfg.Size)
	start := time.Now()
	for i := uint64(0); cfg.Count == 0 || i < cfg.Count; i++ {
		// absolute schedule: no drift from slow sends
		if d := time.Until(start.Add(time.Duration(i) * cfg.Interval)); d > 0 {
			select {
			case <-ctx.Done():
				return st, nil
			case <-time.After(d):
			}
		} else if ctx.Err() != nil {
			return st, nil
		}
		buf = Packet{Seq: seq, Sent: time.Now()}.AppendBinary(buf[:0], cfg.Size)
		if _, err := c.WriteToUDP(buf, dst); err != nil {
			st.Errors++
		} else {
			st.Sent++
		}
		st.Last = seq
		seq++
	}
	return st, nil
}

// Sink receives datagrams on a socket and writes a Record per valid one.
type Sink struct {
	conn    *net.UDPConn
	stamped bool // the kernel time-stamps arrivals (stamp_*.go)
	mu      sync.Mutex
	w       io.Writer
	n       uint64
	bad     uint64
}

// Listen opens a sink on addr (e.g. [::]:9000) writing records to w.
func Listen(addr netip.AddrPort, w io.Writer) (*Sink, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, fmt.Errorf("traffic: sink: %w", err)
	}
	return &Sink{conn: c, w: w, stamped: kernelStamper{}.enable(c)}, nil
}

// Addr is the sink's local address.
func (s *Sink) Addr() netip.AddrPort { return s.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Serve records arrivals until ctx ends or Close.
func (s *Sink) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { s.conn.Close() })
	defer stop()
	buf := make([]byte, 65536)
	var oob []byte
	if s.stamped {
		oob = make([]byte, kernelStamper{}.oobLen())
	}
	for {
		n, oobn, _, from, err := s.conn.ReadMsgUDPAddrPort(buf, oob)
		now := time.Now()
		if t, ok := (kernelStamper{}).parse(oob[:oobn]); ok && err == nil {
			now = t // the arrival, not the read
		}
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		p, err := Decode(buf[:n])
		s.mu.Lock()
		if err != nil {
			s.bad++
			s.mu.Unlock()
			continue
		}
		s.n++
		line, _ := json.Marshal(Record{Seq: p.Seq, Sent: p.Sent.UnixNano(), Recv: now.UnixNano(), Src: from.Addr().Unmap().String()})
		line = append(line, '\n')
		_, werr := s.w.Write(line)
		s.mu.Unlock()
		if werr != nil {
			return werr
		}
	}
}

// Counts are the valid and malformed datagrams received so far.
func (s *Sink) Counts() (ok, bad uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, s.bad
}

// Close stops Serve.
func (s *Sink) Close() error { return s.conn.Close() }

// Lost counts the sequence numbers missing in [first, last] of the records.
func Lost(recs []Record, first, last uint64) uint64 {
	seen := map[uint64]bool{}
	for _, r := range recs {
		if r.Seq >= first && r.Seq <= last {
			seen[r.Seq] = true
		}
	}
	if last < first {
		return 0
	}
	return last - first + 1 - uint64(len(seen))
}
