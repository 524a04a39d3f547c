package engine

import (
	"encoding/binary"
	"fmt"
)

// A CDB's length is in 8-octet words, so its padding cannot be told from
// data. The engine therefore carries each FPT's context as
//
//	Length (32 bits, octets) | context | zero padding
//
// split over as many CDBs of that FPT as needed (cxtp.SplitContext) and
// joined back in order on the nAR. Handlers see only the context bytes.
func frame(data []byte) []byte {
	out := make([]byte, 4, 4+len(data))
	binary.BigEndian.PutUint32(out, uint32(len(data)))
	return append(out, data...)
}

func unframe(b []byte) ([]byte, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("context shorter than its length field (%d octets)", len(b))
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, fmt.Errorf("context length %d exceeds the %d octets received", n, len(b)-4)
	}
	for _, x := range b[4+n:] {
		if x != 0 {
			return nil, fmt.Errorf("non-zero octets after the context")
		}
	}
	return b[4 : 4+n : 4+n], nil
}
