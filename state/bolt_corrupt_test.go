package state

import (
	"github.com/riftbridge/riftbridge/bridge/telemetry"

	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var osPageSize = int64(os.Getpagesize()) // bbolt's default page size

// freshBoltFile is the file bbolt's first write leaves: the initial pages.
func freshBoltFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != initialPages*osPageSize {
		t.Fatalf("fresh bbolt file: %v, %v bytes, want %d", err, fi.Size(), initialPages*osPageSize)
	}
	return path
}

const stateRecords = 500

// stateFile is a state file after many writes: stateRecords PUUIDs in one
// transaction, then one more write. It returns the pages in use.
func stateFile(t *testing.T) (path string, pages int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "state.db")
	b, err := OpenBolt(path, telemetry.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err = b.db.Update(func(tx *bolt.Tx) error {
		for i := range stateRecords {
			if err := tx.Bucket(bucketPUUIDs).Put(puuidKey("kr", fmt.Sprint("player#", i)), encodePUUID(fmt.Sprint("puuid-", i), now, now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetLiveGame(ctx(t), "puuid-0", 1); err != nil {
		t.Fatal(err)
	}
	err = b.db.View(func(tx *bolt.Tx) error {
		pages = tx.Size() / osPageSize
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return path, pages
}

// wantRecords checks that the PUUIDs stateFile wrote are all there.
func wantRecords(t *testing.T, b *Bolt) {
	t.Helper()
	for i := range stateRecords {
		puuid, _, ok, err := b.PUUID(ctx(t), "kr", fmt.Sprint("player#", i))
		if err != nil || !ok || puuid != fmt.Sprint("puuid-", i) {
			t.Fatalf("record %d: %q %v %v", i, puuid, ok, err)
		}
	}
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func writeAt(t *testing.T, path string, off int64, p []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(p, off); err != nil {
		t.Fatal(err)
	}
}

func zeroPage(t *testing.T, path string, page int64) {
	t.Helper()
	writeAt(t, path, page*osPageSize, make([]byte, osPageSize))
}

// setMetaField overwrites a uint32 of meta page page, offset off into the meta.
func setMetaField(t *testing.T, path string, page, off int64, v uint32) {
	t.Helper()
	writeAt(t, path, page*osPageSize+metaStart+off, binary.NativeEndian.AppendUint32(nil, v))
}

// tearMeta spoils the checksum of meta page page, as a torn write would.
func tearMeta(t *testing.T, path string, page int64) {
	t.Helper()
	setMetaField(t, path, page, 12, 0xFFFF) // the meta's flags, which only the checksum covers
}

// newerMeta is the meta page bbolt reads the file by.
func newerMeta(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m0, err0 := readMeta(f, 0)
	m1, err1 := readMeta(f, osPageSize)
	if err := errors.Join(err0, err1); err != nil {
		t.Fatal(err)
	}
	if m1.txid > m0.txid {
		return 1
	}
	return 0
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantCorrupt checks that OpenBolt refuses path with ErrCorrupt in one line
// that names the file, says what is wrong (want) and what to do, and that
// it leaves the file as it was.
func wantCorrupt(t *testing.T, path, want string) {
	t.Helper()
	before, statErr := os.Stat(path)
	b, err := OpenBolt(path, telemetry.Settings{})
	if err == nil {
		_ = b.Close()
		t.Fatal("open succeeded")
	}
	msg := err.Error()
	if !errors.Is(err, ErrCorrupt) || strings.Contains(msg, "\n") {
		t.Fatalf("error %q, want one line wrapping ErrCorrupt", msg)
	}
	prefix := "open state file " + path + ": corrupt or not a riftbridge state file: "
	if !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, want) {
		t.Fatalf("error %q, want it to start with %q and say %q", msg, prefix, want)
	}
	advice := "; " + adviceMoveAside
	if statErr == nil && !before.Mode().IsRegular() {
		advice = "; " + adviceNotAFile
	}
	if !strings.HasSuffix(msg, advice) {
		t.Fatalf("error %q, want it to end with %q", msg, advice)
	}
	if statErr != nil || !before.Mode().IsRegular() {
		return
	}
	if after, err := os.Stat(path); err != nil || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("the refused file changed: %v", err)
	}
}

func TestBoltCorrupt(t *testing.T) {
	truncated := func(size int64) string {
		return fmt.Sprintf("truncated: %d bytes, its meta page says %d", size, initialPages*osPageSize)
	}
	for _, tc := range []struct {
		name string
		file func(t *testing.T) string
		want string
	}{
		// A first start on a full disk: bbolt's first write cut short.
		{"fresh file cut to 1 byte", func(t *testing.T) string {
			path := freshBoltFile(t)
			truncate(t, path, 1)
			return path
		}, "1 bytes, too short for a bbolt file"},
		{"fresh file cut to 4095 bytes", func(t *testing.T) string {
			path := freshBoltFile(t)
			truncate(t, path, osPageSize-1)
			return path
		}, truncated(osPageSize - 1)},
		{"fresh file cut to 1 page", func(t *testing.T) string {
			path := freshBoltFile(t)
			truncate(t, path, osPageSize)
			return path
		}, truncated(osPageSize)},
		{"fresh file cut to 2 pages less a byte", func(t *testing.T) string {
			path := freshBoltFile(t)
			truncate(t, path, 2*osPageSize-1)
			return path
		}, truncated(2*osPageSize - 1)},
		{"fresh file cut to 3 pages", func(t *testing.T) string {
			path := freshBoltFile(t)
			truncate(t, path, 3*osPageSize)
			return path
		}, truncated(3 * osPageSize)},
		{"fresh file cut to 4 pages less a byte", func(t *testing.T) string {
			path := freshBoltFile(t)
			truncate(t, path, 4*osPageSize-1)
			return path
		}, truncated(4*osPageSize - 1)},
		{"fresh file, both meta pages zeroed", func(t *testing.T) string {
			path := freshBoltFile(t)
			zeroPage(t, path, 0)
			zeroPage(t, path, 1)
			return path
		}, "not a bbolt file: bad magic"},
		{"fresh file, freelist zeroed", func(t *testing.T) string {
			path := freshBoltFile(t)
			zeroPage(t, path, 2)
			return path
		}, "bbolt failed reading it: invalid freelist page"},
		{"fresh file, root leaf zeroed", func(t *testing.T) string {
			path := freshBoltFile(t)
			zeroPage(t, path, 3)
			return path
		}, "bbolt failed reading it: "},

		{"state file cut to 3 pages", func(t *testing.T) string {
			path, _ := stateFile(t)
			truncate(t, path, 3*osPageSize)
			return path
		}, fmt.Sprintf("truncated: %d bytes, its meta page says ", 3*osPageSize)},
		{"meta page 0 zeroed", func(t *testing.T) string {
			path, _ := stateFile(t)
			zeroPage(t, path, 0)
			return path
		}, "not a bbolt file: bad magic"},
		{"meta page 1 zeroed", func(t *testing.T) string {
			path, _ := stateFile(t)
			zeroPage(t, path, 1)
			return path
		}, "meta page 1: bad magic"},
		{"both meta pages torn", func(t *testing.T) string {
			path, _ := stateFile(t)
			tearMeta(t, path, 0)
			tearMeta(t, path, 1)
			return path
		}, "both meta pages fail their checksum"},
		{"old bbolt version", func(t *testing.T) string {
			path, _ := stateFile(t)
			setMetaField(t, path, 0, 4, 1)
			return path
		}, "meta page 0: bbolt format version 1, want 2"},
		{"page size not a power of two", func(t *testing.T) string {
			path, _ := stateFile(t)
			setMetaField(t, path, 0, 8, 3000)
			return path
		}, "meta page 0: implausible page size 3000"},
		{"meta pages disagree on the page size", func(t *testing.T) string {
			path, _ := stateFile(t)
			setMetaField(t, path, 1, 8, uint32(2*osPageSize))
			return path
		}, fmt.Sprintf("its meta pages say page sizes %d and %d", osPageSize, 2*osPageSize)},

		{"foreign: random bytes", func(t *testing.T) string {
			data := make([]byte, 64<<10)
			_, _ = rand.NewChaCha8([32]byte{1}).Read(data)
			return writeFile(t, data)
		}, "not a bbolt file: bad magic"},
		{"foreign: JSON", func(t *testing.T) string {
			return writeFile(t, []byte(`{"matches": {"KR_1": {"owner": "a", "frames": 30}}, "puuids": {"kr/player#1": "puuid-1"}}`))
		}, "not a bbolt file: bad magic"},
		{"foreign: short JSON", func(t *testing.T) string {
			return writeFile(t, []byte(`{}`))
		}, "2 bytes, too short for a bbolt file"},
		{"foreign: SQLite", func(t *testing.T) string {
			return writeFile(t, append([]byte("SQLite format 3\x00\x10\x00\x01\x01"), make([]byte, 4*4096-20)...))
		}, "not a bbolt file: bad magic"},

		{"directory", func(t *testing.T) string { return t.TempDir() }, "a directory"},
		{"FIFO", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "state.db")
			if out, err := exec.Command("mkfifo", path).CombinedOutput(); err != nil {
				t.Skipf("mkfifo: %v %s", err, out)
			}
			return path
		}, "not a regular file"},
		{"/dev/zero", func(*testing.T) string { return "/dev/zero" }, "not a regular file"},
		{"/dev/null", func(*testing.T) string { return "/dev/null" }, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCorrupt(t, tc.file(t), tc.want)
		})
	}
}

// TestBoltTruncatedEverywhere cuts a state file after many writes at every
// page boundary and in the middle of every page: OpenBolt refuses it until
// it holds every page in use, and then opens it with all its records.
func TestBoltTruncatedEverywhere(t *testing.T) {
	orig, pages := stateFile(t)
	data, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	if pages < 2*initialPages {
		t.Fatalf("the state file uses %d pages, too few to test", pages)
	}
	t.Logf("%d pages in use, %d in the file", pages, int64(len(data))/osPageSize)
	for size := osPageSize / 2; size < int64(len(data)); size += osPageSize / 2 {
		path := writeFile(t, data[:size])
		switch {
		case size%osPageSize != 0 && size < pages*osPageSize:
			wantCorrupt(t, path, fmt.Sprintf("truncated: %d bytes, its meta page says %d", size, pages*osPageSize))
		case size%osPageSize != 0:
			wantCorrupt(t, path, fmt.Sprintf("truncated: %d bytes, not a whole number of %d-byte pages", size, osPageSize))
		case size < pages*osPageSize:
			wantCorrupt(t, path, fmt.Sprintf("truncated: %d bytes, its meta page says %d", size, pages*osPageSize))
		default: // only unused pages lost
			b, err := OpenBolt(path, telemetry.Settings{})
			if err != nil {
				t.Fatalf("cut to %d bytes: %v", size, err)
			}
			wantRecords(t, b)
			checkConsistent(t, b)
			_ = b.Close()
		}
	}
}

func TestBoltOpensSound(t *testing.T) {
	for _, tc := range []struct {
		name string
		file func(t *testing.T) string
		full bool // all of stateFile's records are there
	}{
		{"absent", func(t *testing.T) string { return filepath.Join(t.TempDir(), "state.db") }, false},
		// An earlier first start that failed before writing.
		{"empty", func(t *testing.T) string { return writeFile(t, nil) }, false},
		{"fresh", freshBoltFile, false},
		{"with data", func(t *testing.T) string { path, _ := stateFile(t); return path }, true},
		// bbolt falls back to the other meta page, one transaction older.
		{"newer meta page torn", func(t *testing.T) string {
			path, _ := stateFile(t)
			tearMeta(t, path, newerMeta(t, path))
			return path
		}, true},
		{"older meta page torn", func(t *testing.T) string {
			path, _ := stateFile(t)
			tearMeta(t, path, 1-newerMeta(t, path))
			return path
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.file(t)
			b, err := OpenBolt(path, telemetry.Settings{})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if tc.full {
				wantRecords(t, b)
			}
			checkConsistent(t, b)
			wantClaim(t, b, "KR_1", "a", time.Hour, 0, true)
		})
	}
}

// openChildEnv, set to "how path", makes the test binary a child that opens
// the state file at path (see openChild).
const openChildEnv = "RIFTBRIDGE_STATE_OPEN_CHILD"

// openChild opens path with OpenBolt, or with bbolt alone or under guard,
// as how says, and prints the error; it fails unless that is ErrCorrupt.
func openChild(spec string) int {
	how, path, _ := strings.Cut(spec, " ")
	var err error
	switch how {
	case "OpenBolt":
		_, err = OpenBolt(path, telemetry.Settings{})
	case "guard":
		err = guard(func() error {
			_, err := bolt.Open(path, 0o600, nil)
			return err
		})
	case "bolt.Open":
		_, err = bolt.Open(path, 0o600, nil)
	}
	fmt.Println(err)
	if !errors.Is(err, ErrCorrupt) {
		return 1
	}
	return 0
}

// TestBoltTruncatedNoCrash opens a truncated state file in a child process,
// because a SIGBUS kills the process instead of failing the test: bbolt
// alone crashes; OpenBolt refuses the file; and bbolt under guard (that is,
// with SetPanicOnFault, for a file cut after checkBoltFile) faults into an
// error.
func TestBoltTruncatedNoCrash(t *testing.T) {
	path, _ := stateFile(t)
	truncate(t, path, 3*osPageSize)
	run := func(how string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), openChildEnv+"="+how+" "+path)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := run("bolt.Open")
	if err == nil || !strings.Contains(out, "SIGBUS") {
		t.Fatalf("bare bbolt opened the truncated file without SIGBUS (%v), so this test proves nothing: find a file that still crashes it, or drop SetPanicOnFault from guard if bbolt no longer does:\n%s", err, out)
	}
	t.Logf("bare bbolt: %v, %d lines of output", err, strings.Count(out, "\n"))

	for how, want := range map[string]string{
		"OpenBolt": "open state file " + path + ": corrupt or not a riftbridge state file: truncated: ",
		"guard":    "corrupt or not a riftbridge state file: bbolt faulted reading it at 0x",
	} {
		out, err := run(how)
		if err != nil || strings.Contains(out, "SIGBUS") || strings.Contains(out, "goroutine ") || strings.Contains(out, "panic") {
			t.Errorf("%s: the child crashed or failed (%v):\n%s", how, err, out)
			continue
		}
		if strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, want) || !strings.HasSuffix(out, adviceMoveAside+"\n") {
			t.Errorf("%s: the child printed %q, want one line %q…", how, out, want)
		}
	}
}
