package lab

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// Mode bits of the cpio (and stat) file types.
const (
	cpioTypeMask = 0o170000
	cpioDir      = 0o040000
	cpioReg      = 0o100000
	cpioSymlink  = 0o120000
	cpioChar     = 0o020000
)

// cpioHeader is one entry of a "newc" (SVR4, no CRC) cpio archive, the
// format the Linux kernel unpacks as an initramfs.
type cpioHeader struct {
	Name      string // without a leading slash, e.g. "sbin/init"
	Mode      uint32 // type and permission bits, e.g. cpioReg|0o755
	UID, GID  uint32
	Nlink     uint32
	Mtime     uint32
	Size      uint32 // data size; for a symlink, the length of its target
	RdevMajor uint32 // for device nodes
	RdevMinor uint32
}

// cpioWriter writes a newc cpio archive. Entries are written in the order
// given; the caller must write a directory before anything inside it (the
// kernel's unpacker does not create missing parents).
type cpioWriter struct {
	w      io.Writer
	off    int64
	ino    uint32
	closed bool
}

func newCpioWriter(w io.Writer) *cpioWriter { return &cpioWriter{w: w, ino: 1} }

func (c *cpioWriter) write(b []byte) error {
	n, err := c.w.Write(b)
	c.off += int64(n)
	return err
}

func (c *cpioWriter) pad() error {
	if r := c.off % 4; r != 0 {
		return c.write(make([]byte, 4-r))
	}
	return nil
}

// WriteEntry writes one header and, for regular files and symlinks, exactly
// h.Size bytes read from data.
func (c *cpioWriter) WriteEntry(h cpioHeader, data io.Reader) error {
	if c.closed {
		return fmt.Errorf("cpio: entry %q after the trailer", h.Name)
	}
	name := strings.TrimPrefix(h.Name, "/")
	if name == "" || strings.ContainsRune(name, 0) {
		return fmt.Errorf("cpio: invalid entry name %q", h.Name)
	}
	if h.Nlink == 0 {
		h.Nlink = 1
		if h.Mode&cpioTypeMask == cpioDir {
			h.Nlink = 2
		}
	}
	ino := c.ino
	c.ino++
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, h.Mode, h.UID, h.GID, h.Nlink, h.Mtime, h.Size,
		0, 0, h.RdevMajor, h.RdevMinor, len(name)+1, 0)
	if err := c.write([]byte(hdr)); err != nil {
		return fmt.Errorf("cpio: writing header of %q: %w", name, err)
	}
	if err := c.write(append([]byte(name), 0)); err != nil {
		return fmt.Errorf("cpio: writing name of %q: %w", name, err)
	}
	if err := c.pad(); err != nil {
		return err
	}
	if h.Size > 0 {
		if data == nil {
			return fmt.Errorf("cpio: entry %q has size %d but no data", name, h.Size)
		}
		n, err := io.CopyN(c.w, data, int64(h.Size))
		c.off += n
		if err != nil {
			return fmt.Errorf("cpio: data of %q: %w (wrote %d of %d bytes)", name, err, n, h.Size)
		}
		if err := c.pad(); err != nil {
			return err
		}
	}
	return nil
}

// Close writes the trailer entry. It does not close the underlying writer.
func (c *cpioWriter) Close() error {
	if c.closed {
		return nil
	}
	err := c.WriteEntry(cpioHeader{Name: "TRAILER!!!"}, nil)
	c.closed = true
	return err
}

// cpioMode converts a Go file mode to cpio mode bits.
func cpioMode(m fs.FileMode) uint32 {
	perm := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		perm |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		perm |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		perm |= 0o1000
	}
	switch {
	case m.IsDir():
		return cpioDir | perm
	case m&fs.ModeSymlink != 0:
		return cpioSymlink | perm
	case m&fs.ModeCharDevice != 0:
		return cpioChar | perm
	default:
		return cpioReg | perm
	}
}

// cleanGuestPath turns a guest path into the archive's name form: clean,
// relative to the root, never escaping it.
func cleanGuestPath(p string) (string, error) {
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if c == "" || c == "." {
		return "", fmt.Errorf("guest path %q names the root", p)
	}
	return c, nil
}
