package shm

import (
	"fmt"
)

// SlotInfo describes one slot as read from a segment or an image.
type SlotInfo struct {
	ID    SlotID
	State State
	Gen   uint32
	Owner uint32  // PID of the last process that claimed the slot
	Rec   *Record // the committed record (REQUEST, DONE, WORKING); nil otherwise or if Err is set
	Err   error   // why the slot cannot be trusted; nil if it is sound
}

// Image is a decoded segment image.
type Image struct {
	Header Header
	Slots  []SlotInfo
}

// Corrupt returns the slots that failed their checks.
func (im *Image) Corrupt() []SlotInfo {
	var bad []SlotInfo
	for _, s := range im.Slots {
		if s.Err != nil {
			bad = append(bad, s)
		}
	}
	return bad
}

// ParseImage decodes a raw segment image (for example a copy of
// /dev/shm/NAME). A bad header is an error; a bad slot is reported in its
// SlotInfo.Err and its contents are not used. No input makes it panic.
func ParseImage(b []byte) (*Image, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		return nil, err
	}
	g := h.Geometry
	if len(b) < g.Size() {
		return nil, fmt.Errorf("image: %d bytes, the header's geometry needs %d", len(b), g.Size())
	}
	im := &Image{Header: h, Slots: make([]SlotInfo, g.Slots)}
	for i := range im.Slots {
		off := g.slotOff(i)
		im.Slots[i] = inspectSlot(SlotID(i), ne.Uint64(b[off+sCtl:]), ne.Uint32(b[off+sOwner:]),
			ne.Uint32(b[off+sRsvd:]), func(c int) []byte {
				ro := g.recordOff(i, c)
				return b[ro : ro+g.RecordSize()]
			}, g.MaxData)
	}
	return im, nil
}

// inspectSlot checks one slot given its control word and access to its
// record copies.
func inspectSlot(id SlotID, w uint64, owner, rsvd uint32, rec func(int) []byte, maxData int) SlotInfo {
	si := SlotInfo{ID: id, Owner: owner}
	c, err := decodeCtl(w)
	si.State, si.Gen = c.state, c.gen
	if err != nil {
		si.Err = fmt.Errorf("slot %d: %v", id, err)
		return si
	}
	if rsvd != 0 {
		si.Err = fmt.Errorf("slot %d: reserved word %#08x set", id, rsvd)
		return si
	}
	switch c.state {
	case StateRequest, StateDone, StateWorking:
	default:
		return si
	}
	r, err := decodeRecord(rec(c.copy), maxData)
	if err != nil {
		si.Err = fmt.Errorf("slot %d (%s, generation %d): %v", id, c.state, c.gen, err)
		return si
	}
	if !c.matches(r.Seq) {
		si.Err = fmt.Errorf("slot %d (%s, generation %d): record sequence %d, control word names %#04x", id, c.state, c.gen, r.Seq, c.commit)
		return si
	}
	si.Rec = &r
	return si
}
