package lab

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// image is an initramfs being written: a gzip'd newc cpio archive. It
// creates parent directories on demand and refuses to write a path twice.
type image struct {
	f       *os.File
	gz      io.WriteCloser // gzip, or nopCloser for a plain archive
	cw      *cpioWriter
	written map[string]bool // archive names already present
	dirs    map[string]bool
}

// newImage creates the archive file at file, gzip'd when compress is set.
func newImage(file string, compress bool) (*image, error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("initramfs: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	var w io.WriteCloser = flushCloser{bw}
	if compress {
		// BestSpeed: the archive is rebuilt for every run, and the guest's
		// gunzip costs about the same whatever the level.
		gz, _ := gzip.NewWriterLevel(bw, gzip.BestSpeed)
		w = chainCloser{gz, flushCloser{bw}}
	}
	return &image{f: f, gz: w, cw: newCpioWriter(w), written: map[string]bool{}, dirs: map[string]bool{}}, nil
}

type flushCloser struct{ *bufio.Writer }

func (f flushCloser) Close() error { return f.Flush() }

// chainCloser closes the gzip stream, then flushes the buffer under it.
type chainCloser struct {
	io.WriteCloser
	next io.Closer
}

func (c chainCloser) Close() error {
	err := c.WriteCloser.Close()
	if e := c.next.Close(); err == nil {
		err = e
	}
	return err
}

// Close writes the trailer and closes the file.
func (im *image) Close() error {
	err := im.cw.Close()
	if e := im.gz.Close(); err == nil {
		err = e
	}
	if e := im.f.Close(); err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("initramfs: closing %s: %w", im.f.Name(), err)
	}
	return nil
}

// mkdirAll writes directory entries for name and its parents as needed.
func (im *image) mkdirAll(name string) error {
	if name == "" || name == "." || im.dirs[name] {
		return nil
	}
	if err := im.mkdirAll(path.Dir(name)); err != nil {
		return err
	}
	if im.written[name] {
		return fmt.Errorf("initramfs: %q is both a file and a directory", "/"+name)
	}
	im.dirs[name] = true
	im.written[name] = true
	return im.cw.WriteEntry(cpioHeader{Name: name, Mode: cpioDir | 0o755}, nil)
}

func (im *image) begin(guest string) (string, error) {
	name, err := cleanGuestPath(guest)
	if err != nil {
		return "", fmt.Errorf("initramfs: %w", err)
	}
	if im.written[name] {
		return "", fmt.Errorf("initramfs: %q added twice", "/"+name)
	}
	if err := im.mkdirAll(path.Dir(name)); err != nil {
		return "", err
	}
	im.written[name] = true
	return name, nil
}

// has reports whether guest is already in the archive.
func (im *image) has(guest string) bool {
	name, err := cleanGuestPath(guest)
	return err == nil && im.written[name]
}

// Dir adds an empty directory with the given permissions.
func (im *image) Dir(guest string, perm fs.FileMode) error {
	name, err := cleanGuestPath(guest)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	if im.dirs[name] {
		return nil
	}
	if err := im.mkdirAll(path.Dir(name)); err != nil {
		return err
	}
	if im.written[name] {
		return fmt.Errorf("initramfs: %q is both a file and a directory", "/"+name)
	}
	im.dirs[name] = true
	im.written[name] = true
	return im.cw.WriteEntry(cpioHeader{Name: name, Mode: cpioDir | uint32(perm.Perm())}, nil)
}

// Data adds a regular file with the given contents.
func (im *image) Data(guest string, data []byte, perm fs.FileMode) error {
	name, err := im.begin(guest)
	if err != nil {
		return err
	}
	return im.cw.WriteEntry(cpioHeader{Name: name, Mode: cpioReg | uint32(perm.Perm()), Size: uint32(len(data))}, bytes.NewReader(data))
}

// Symlink adds a symbolic link guest -> target.
func (im *image) Symlink(guest, target string) error {
	name, err := im.begin(guest)
	if err != nil {
		return err
	}
	return im.cw.WriteEntry(cpioHeader{Name: name, Mode: cpioSymlink | 0o777, Size: uint32(len(target))}, strings.NewReader(target))
}

// CharDev adds a character device node.
func (im *image) CharDev(guest string, major, minor uint32, perm fs.FileMode) error {
	name, err := im.begin(guest)
	if err != nil {
		return err
	}
	return im.cw.WriteEntry(cpioHeader{Name: name, Mode: cpioChar | uint32(perm.Perm()), RdevMajor: major, RdevMinor: minor}, nil)
}

// File copies the host file host (following symlinks) to guest, keeping its
// permission bits.
func (im *image) File(guest, host string) error {
	f, err := os.Open(host)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("initramfs: %s is not a regular file", host)
	}
	if st.Size() > 1<<32-1 {
		return fmt.Errorf("initramfs: %s is too large for cpio (%d bytes)", host, st.Size())
	}
	name, err := im.begin(guest)
	if err != nil {
		return err
	}
	return im.cw.WriteEntry(cpioHeader{Name: name, Mode: cpioMode(st.Mode()), Size: uint32(st.Size()), Mtime: uint32(st.ModTime().Unix())}, f)
}

// Tree copies the host directory tree host to guest: directories, regular
// files and symlinks (kept as links), in sorted order.
func (im *image) Tree(guest, host string) error {
	root, err := cleanGuestPath(guest)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	var paths []string
	err = filepath.WalkDir(host, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return fmt.Errorf("initramfs: walking %s: %w", host, err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		rel, err := filepath.Rel(host, p)
		if err != nil {
			return fmt.Errorf("initramfs: %w", err)
		}
		g := path.Join(root, filepath.ToSlash(rel))
		st, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("initramfs: %w", err)
		}
		switch {
		case st.IsDir():
			err = im.Dir(g, st.Mode().Perm())
		case st.Mode()&fs.ModeSymlink != 0:
			var t string
			if t, err = os.Readlink(p); err == nil {
				err = im.Symlink(g, t)
			}
		case st.Mode().IsRegular():
			err = im.File(g, p)
		default:
			continue // sockets, fifos: nothing a guest needs
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// copyFile is a small helper for staging trees on the host.
func copyFile(dst, src string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	return out.Close()
}
