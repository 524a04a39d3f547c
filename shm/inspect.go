package shm

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Inspect reads the segment name without registering in any role and
// decodes it (see ParseImage): for status reports and diagnostics. The copy
// is not atomic across slots; a slot being written at that moment may be
// reported in a transient state or, rarely, as corrupt.
func Inspect(name string, opts *Options) (*Image, error) {
	b, err := ReadObject(name, opts)
	if err != nil {
		return nil, err
	}
	im, err := ParseImage(b)
	if err != nil {
		return nil, fmt.Errorf("shm: inspect %s: %w", name, err)
	}
	return im, nil
}

// ReadObject returns a copy of the raw bytes of the segment name.
func ReadObject(name string, opts *Options) ([]byte, error) {
	nm, err := normName(name)
	if err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	fd, err := openReadOnly(nm, o.Dir)
	if err != nil {
		return nil, fmt.Errorf("shm: read %s: %w", nm, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("shm: read %s: fstat: %w", nm, err)
	}
	if st.Size == 0 {
		return []byte{}, nil
	}
	if st.Size > MaxSegmentSize {
		return nil, fmt.Errorf("shm: read %s: %d bytes, larger than any segment", nm, st.Size)
	}
	m, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("shm: read %s: mmap: %w", nm, err)
	}
	defer unix.Munmap(m)
	return append([]byte(nil), m...), nil
}
