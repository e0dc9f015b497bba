package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"runtime/debug"
)

// ErrCorrupt means the state file is damaged or is not a state file at all.
var ErrCorrupt = errors.New("corrupt or not a riftbridge state file")

// What to do about a file OpenBolt refuses.
const (
	adviceMoveAside = "move it aside to start afresh with an empty state (riftbridge may then emit matches of the last state.lookback again) or restore it from a backup"
	adviceNotAFile  = "set state.path to a file"
)

// A bbolt v1.5 meta page (go.etcd.io/bbolt/internal/common Page and Meta):
// a page header (id uint64, flags uint16, count uint16, overflow uint32),
// then magic, version, page size, flags (uint32 each), the root bucket (root
// pgid, sequence), the freelist pgid, the high-water pgid, the txid and an
// FNV-64a checksum of the meta bytes before it (uint64 each). bbolt writes
// these structs straight from memory, so in the machine's byte order (little
// endian on amd64 and arm64), which binary.NativeEndian reads as bbolt does.
const (
	metaStart    = 16 // after the page header
	metaChecksum = metaStart + 56
	metaEnd      = metaChecksum + 8

	boltMagic   = 0xED0CDAED
	boltVersion = 2
	// bbolt uses the OS page size unless told otherwise: 4 KB on amd64, 16
	// or 64 KB on some arm64 systems.
	minPageSize, maxPageSize = 512, 64 << 10
	// bbolt's first write: two meta pages, a freelist and an empty leaf.
	initialPages = 4
)

type boltMeta struct {
	magic, version, pageSize uint32
	pgid                     uint64 // high-water mark: pages below it are in use
	txid                     uint64
	sumOK                    bool
}

// problem says why m cannot be a bbolt meta page, or "".
func (m boltMeta) problem() string {
	switch {
	case m.magic != boltMagic:
		return "bad magic"
	case m.version != boltVersion:
		return fmt.Sprintf("bbolt format version %d, want %d", m.version, boltVersion)
	case m.pageSize < minPageSize || m.pageSize > maxPageSize || m.pageSize&(m.pageSize-1) != 0:
		return fmt.Sprintf("implausible page size %d", m.pageSize)
	}
	return ""
}

func readMeta(f *os.File, off int64) (boltMeta, error) {
	var p [metaEnd]byte
	if _, err := f.ReadAt(p[:], off); err != nil {
		return boltMeta{}, err
	}
	e := binary.NativeEndian
	sum := fnv.New64a()
	_, _ = sum.Write(p[metaStart:metaChecksum])
	return boltMeta{
		magic:    e.Uint32(p[metaStart:]),
		version:  e.Uint32(p[metaStart+4:]),
		pageSize: e.Uint32(p[metaStart+8:]),
		pgid:     e.Uint64(p[metaStart+40:]),
		txid:     e.Uint64(p[metaStart+48:]),
		sumOK:    sum.Sum64() == e.Uint64(p[metaChecksum:]),
	}, nil
}

// checkBoltFile refuses a state file that bbolt would misread: bbolt
// mmaps the file and trusts its meta pages, so a file shorter than they say,
// a truncated state file above all, crashes the process with SIGBUS. It
// reads the two meta pages only. An absent or empty file passes: bbolt
// initialises it.
func checkBoltFile(path string) error {
	fi, err := os.Stat(path) // not open: opening a FIFO blocks
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return corrupt("a directory", adviceNotAFile)
	case !fi.Mode().IsRegular():
		return corrupt("not a regular file", adviceNotAFile)
	case fi.Size() == 0:
		return nil
	}
	size := fi.Size()
	if size < metaEnd {
		return corrupt(fmt.Sprintf("%d bytes, too short for a bbolt file", size), adviceMoveAside)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()

	m0, err := readMeta(f, 0)
	if err != nil {
		return fmt.Errorf("read meta page 0: %w", err)
	}
	if m0.magic != boltMagic {
		return corrupt("not a bbolt file: bad magic", adviceMoveAside)
	}
	if p := m0.problem(); p != "" {
		return corrupt("meta page 0: "+p, adviceMoveAside)
	}
	pageSize := int64(m0.pageSize)
	metas := []boltMeta{m0}
	if size >= pageSize+metaEnd {
		m1, err := readMeta(f, pageSize)
		if err != nil {
			return fmt.Errorf("read meta page 1: %w", err)
		}
		if p := m1.problem(); p != "" {
			return corrupt("meta page 1: "+p, adviceMoveAside)
		}
		if m1.pageSize != m0.pageSize {
			return corrupt(fmt.Sprintf("its meta pages say page sizes %d and %d", m0.pageSize, m1.pageSize), adviceMoveAside)
		}
		metas = append(metas, m1)
	}
	// bbolt uses the meta page with the higher txid among those whose
	// checksum holds; the other may be a torn write.
	var cur *boltMeta
	for i, m := range metas {
		if m.sumOK && (cur == nil || m.txid > cur.txid) {
			cur = &metas[i]
		}
	}
	switch {
	case cur != nil && cur.pgid > uint64(size/pageSize):
		return corrupt(fmt.Sprintf("truncated: %d bytes, its meta page says %d", size, cur.pgid*uint64(pageSize)), adviceMoveAside)
	case size < initialPages*pageSize:
		return corrupt(fmt.Sprintf("truncated: %d bytes, less than the %d pages of %d bytes bbolt starts with", size, initialPages, pageSize), adviceMoveAside)
	case cur == nil:
		return corrupt("both meta pages fail their checksum", adviceMoveAside)
	case size%pageSize != 0:
		return corrupt(fmt.Sprintf("truncated: %d bytes, not a whole number of %d-byte pages", size, pageSize), adviceMoveAside)
	}
	return nil
}

// corrupt is ErrCorrupt saying what is wrong, then what to do.
func corrupt(what, advice string) error {
	return fmt.Errorf("%w: %s; %s", ErrCorrupt, what, advice)
}

// guard runs fn, which reads the state file through bbolt, and turns a crash
// into ErrCorrupt: bbolt panics on a page it cannot parse, and a read past
// the end of the mmapped file (truncated after checkBoltFile) raises SIGBUS,
// which kills the process unless SetPanicOnFault makes it a panic, in this
// goroutine only. A panic in bolt.Open leaves the file open, mapped and
// locked until the process exits: bbolt returns nothing to release it by.
func guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		what := fmt.Sprintf("bbolt failed reading it: %v", r)
		if f, ok := r.(interface{ Addr() uintptr }); ok {
			what = fmt.Sprintf("bbolt faulted reading it at %#x", f.Addr())
		}
		err = corrupt(what, adviceMoveAside)
	}()
	return fn()
}
