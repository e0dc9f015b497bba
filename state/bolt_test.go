package state

import (
	"github.com/riftbridge/riftbridge/bridge/telemetry"

	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// crashChildEnv, set to a state file, makes the test binary a child that
// records progress into it until killed (see crashChild).
const crashChildEnv = "RIFTBRIDGE_STATE_CRASH_CHILD"

const crashFrames = 30

// crashChild emits matches into the state file at path as the bridge would,
// and prints a line after each call returns: "claim ID", "progress ID N",
// "finish ID". A printed line is an acknowledged write. It stops after 1,000
// matches if nobody kills it.
func crashChild(path string) int {
	b, err := OpenBolt(path, telemetry.Settings{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	for m := range 1000 {
		id := fmt.Sprintf("KR_%04d", m)
		if _, claimed, err := b.Claim(ctx, id, "child", time.Hour); err != nil || !claimed {
			fmt.Fprintf(os.Stderr, "claim %s: %v %v\n", id, claimed, err)
			return 1
		}
		fmt.Printf("claim %s\n", id)
		for f := 1; f <= crashFrames; f++ {
			if err := b.Progress(ctx, id, "child", f); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			fmt.Printf("progress %s %d\n", id, f)
		}
		if err := b.Finish(ctx, id, "child", Emitted); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("finish %s\n", id)
	}
	return 0
}

// TestBoltKill9 kills a child process while it records progress, at several
// points, and checks that the file is consistent and holds every write the
// child acknowledged, plus at most the one it was making. While the child
// runs, the file is locked to this process.
func TestBoltKill9(t *testing.T) {
	// Killed right after: the first claim, the last frame (a finish in
	// flight), the finish (the next claim in flight), mid-match twice.
	for _, killAfter := range []int{1, 31, 32, 47, 100} {
		t.Run(fmt.Sprintf("after %d acks", killAfter), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := bufio.NewScanner(out)
			var acks []string
			for len(acks) < killAfter && lines.Scan() {
				acks = append(acks, lines.Text())
			}
			if len(acks) < killAfter {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("child stopped after %d lines", len(acks))
			}

			_, err = OpenBolt(path, telemetry.Settings{}, BoltLockTimeout(50*time.Millisecond))
			if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "state file "+path+" is locked by another riftbridge") {
				t.Errorf("open while the child holds the file: %v, want ErrLocked naming the file", err)
			}

			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			// Lines written before the kill are acknowledged too.
			for lines.Scan() {
				acks = append(acks, lines.Text())
			}
			_ = cmd.Wait()
			t.Logf("killed after %d acknowledged writes, the last %q", len(acks), acks[len(acks)-1])

			b, err := OpenBolt(path, telemetry.Settings{})
			if err != nil {
				t.Fatalf("reopen after kill -9: %v", err)
			}
			defer b.Close()
			checkConsistent(t, b)
			checkAcks(t, b, acks)
		})
	}
}

func checkConsistent(t *testing.T, b *Bolt) {
	t.Helper()
	err := b.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkAcks compares the file with the child's acknowledged writes.
func checkAcks(t *testing.T, b *Bolt, acks []string) {
	t.Helper()
	type acked struct {
		frames   int
		finished bool
	}
	got := map[string]*acked{}
	var ids []string
	for _, line := range acks {
		var id string
		var n int
		switch {
		case strings.HasPrefix(line, "claim "):
			id = strings.TrimPrefix(line, "claim ")
			got[id] = &acked{}
			ids = append(ids, id)
		case strings.HasPrefix(line, "finish "):
			got[strings.TrimPrefix(line, "finish ")].finished = true
		default:
			if _, err := fmt.Sscanf(line, "progress %s %d", &id, &n); err != nil {
				t.Fatalf("child line %q: %v", line, err)
			}
			got[id].frames = n
		}
	}
	last := ids[len(ids)-1]
	for _, id := range ids {
		a := got[id]
		st := status(t, b, id)
		switch {
		case a.finished:
			if st.Phase != Finished || st.Outcome != Emitted || st.FramesDone != crashFrames {
				t.Errorf("%s: acknowledged finished, file has %+v", id, st)
			}
		case id != last:
			t.Fatalf("%s: the child moved on without finishing it", id)
		// The write in flight at the kill may have committed: one more frame,
		// or the finish after the last frame.
		case st.Phase == Claimed && (st.FramesDone == a.frames || st.FramesDone == a.frames+1):
		case st.Phase == Finished && a.frames == crashFrames:
		default:
			t.Errorf("%s: acknowledged %d frames, file has %+v", id, a.frames, st)
		}
	}

	// The next match's claim may have committed unacknowledged, with 0 frames.
	want := []string{}
	if st := status(t, b, last); st.Phase == Claimed {
		want = append(want, last)
	}
	next := fmt.Sprintf("KR_%04d", len(ids))
	if st := status(t, b, next); st.Phase == Claimed && st.FramesDone == 0 {
		want = append(want, next)
	} else if st.Phase != Unseen {
		t.Errorf("%s: never acknowledged, file has %+v", next, st)
	}
	if got := unfinished(t, b); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("unfinished = %v, want %v", got, want)
	}
	// The dead child's leases died with it: its matches resume at once.
	for _, id := range want {
		st := status(t, b, id)
		wantClaim(t, b, id, "restarted", time.Hour, st.FramesDone, true)
	}
}

func TestBoltLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	b, err := OpenBolt(path, telemetry.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenBolt(path, telemetry.Settings{}, BoltLockTimeout(20*time.Millisecond))
	want := "state file " + path + " is locked by another riftbridge"
	if !errors.Is(err, ErrLocked) || err.Error() != want {
		t.Fatalf("second open: %v, want %q", err, want)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b2, err := OpenBolt(path, telemetry.Settings{}, BoltLockTimeout(20*time.Millisecond))
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	_ = b2.Close()
}

func TestBoltOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a bolt file ", 512)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"empty path", "", "state file: empty path"},
		{"parent is a file", filepath.Join(notDir, "state.db"), "open state file " + filepath.Join(notDir, "state.db") + ": "},
		{"not a bolt file", garbage, "open state file " + garbage + ": "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := OpenBolt(tc.path, telemetry.Settings{})
			if err == nil {
				_ = b.Close()
				t.Fatal("open succeeded")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to start with %q", err, tc.want)
			}
		})
	}
}

// A corrupt record is an error naming the match and the file, not a panic.
func TestBoltCorruptRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	b, err := OpenBolt(path, telemetry.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = b.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketActive).Put([]byte("KR_1"), []byte{9, 9})
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Status(ctx(t), "KR_1")
	want := "status of match KR_1: state file " + path + ": corrupt match record (2 bytes)"
	if err == nil || err.Error() != want {
		t.Fatalf("status: %v, want %q", err, want)
	}
	if _, _, err := b.Claim(ctx(t), "KR_1", "a", time.Hour); err == nil || !strings.Contains(err.Error(), "claim match KR_1: state file") {
		t.Fatalf("claim: %v, want an error naming the match and file", err)
	}
}

// BenchmarkBoltProgress measures one recorded frame: an fsync'd transaction
// on the local disk. Every 30 frames the match is finished and a new one
// claimed, amortised into the figure as in a real emission.
func BenchmarkBoltProgress(b *testing.B) {
	s, err := OpenBolt(filepath.Join(b.TempDir(), "state.db"), telemetry.Settings{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchmarkProgress(b, s)
}

func benchmarkProgress(b *testing.B, s Store) {
	ctx := context.Background()
	b.ReportAllocs()
	var id string
	for i := 0; b.Loop(); i++ {
		frame := i%crashFrames + 1
		if frame == 1 {
			id = fmt.Sprintf("KR_%d", i/crashFrames)
			if _, ok, err := s.Claim(ctx, id, "bench", time.Hour); err != nil || !ok {
				b.Fatalf("claim %s: %v %v", id, ok, err)
			}
		}
		if err := s.Progress(ctx, id, "bench", frame); err != nil {
			b.Fatal(err)
		}
		if frame == crashFrames {
			if err := s.Finish(ctx, id, "bench", Emitted); err != nil {
				b.Fatal(err)
			}
		}
	}
}
