package riot

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// summarize renders what a recording holds, for golden files.
func summarize(rec *Recording) string {
	var b strings.Builder
	tl := rec.Timeline
	fmt.Fprintf(&b, "files: %s\n", strings.Join(rec.Files, " "))
	fmt.Fprintf(&b, "timeline: matchId %q gameId %d result %q interval %d participants %d\n",
		tl.Metadata.MatchID, tl.Info.GameID, tl.Info.EndOfGameResult, tl.Info.FrameInterval, len(tl.Info.Participants))
	for i, f := range tl.Info.Frames {
		fmt.Fprintf(&b, "frame %d: t=%d participantFrames=%d events=%d\n", i, f.Timestamp, len(f.ParticipantFrames), len(f.Events))
	}
	counts := eventCounts(tl)
	for _, typ := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(&b, "events %s: %d\n", typ, counts[typ])
	}
	last := tl.Info.Frames[len(tl.Info.Frames)-1]
	for _, id := range slices.Sorted(maps.Keys(last.ParticipantFrames)) {
		p := last.ParticipantFrames[id]
		fmt.Fprintf(&b, "last frame participant %d: level %d totalGold %d healthMax %d damageToChampions %d\n",
			id, p.Level, p.TotalGold, p.ChampionStats.HealthMax, p.DamageStats.TotalDamageDoneToChampions)
	}
	if m := rec.Match; m != nil {
		fmt.Fprintf(&b, "match: matchId %q queue %d mode %s version %s map %d platform %s result %q teams %d\n",
			m.Metadata.MatchID, m.Info.QueueID, m.Info.GameMode, m.Info.GameVersion, m.Info.MapID, m.Info.PlatformID,
			m.Info.EndOfGameResult, len(m.Info.Teams))
		for _, p := range m.Info.Participants {
			fmt.Fprintf(&b, "match participant %d: team %d subteam %d position %q %s %q/%q#%q win %t\n",
				p.ParticipantID, p.TeamID, p.PlayerSubteamID, p.TeamPosition, p.ChampionName,
				p.RiotIDGameName, p.RiotIDName, p.RiotIDTagline, p.Win)
		}
	}
	return b.String()
}

func TestLoadRecording(t *testing.T) {
	cases := []struct {
		name      string // also the golden file testdata/<name>/want.txt
		timelines []string
		match     string
		wantIs    error
	}{
		{name: "sample", timelines: []string{sampleTimeline}, match: sampleMatch},
		{name: "seed_frame", timelines: []string{seedFrames}},
		{name: "seed_events", timelines: []string{seedEvents}},
		{name: "seeds_combined", timelines: []string{seedFrames, seedEvents}},
		{name: "arena", timelines: []string{"testdata/arena/timeline.json"}, match: "testdata/arena/match.json"},
		{name: "legacy_2022", timelines: []string{"testdata/legacy_2022/timeline.json"}, match: "testdata/legacy_2022/match.json"},
		{name: "unknown_event", timelines: []string{"testdata/unknown_event/timeline.json"}},
		{name: "mismatch", timelines: []string{sampleTimeline}, match: "testdata/mismatch/match.json", wantIs: ErrMatchMismatch},
		{name: "aborted_match", timelines: []string{sampleTimeline}, match: "testdata/aborted_match/match.json", wantIs: ErrAborted},
		{name: "aborted", timelines: []string{"testdata/aborted/timeline.json"}, wantIs: ErrAborted},
		{name: "timeline_as_match", timelines: []string{sampleTimeline}, match: sampleTimeline, wantIs: ErrNotMatch},
		{name: "match_as_timeline", timelines: []string{sampleMatch}, wantIs: ErrNotTimeline},
		{name: "malformed", timelines: []string{"testdata/malformed/timeline.json"}},
		{name: "missing_file", timelines: []string{"testdata/missing_file/timeline.json"}, wantIs: fs.ErrNotExist},
		{name: "missing_match", timelines: []string{sampleTimeline}, match: "testdata/missing_match/match.json", wantIs: fs.ErrNotExist},
		{name: "full_and_fragment", timelines: []string{sampleTimeline, seedEvents}},
		{name: "two_event_fragments", timelines: []string{seedEvents, seedEvents}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, err := LoadRecording(c.timelines, c.match)
			var got string
			if err != nil {
				if _, ok := errors.AsType[*InputError](err); !ok {
					t.Errorf("error %T is not an *InputError", err)
				}
				got = "error: " + err.Error() + "\n"
			} else {
				got = summarize(rec)
			}
			if c.wantIs != nil && !errors.Is(err, c.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, c.wantIs)
			}
			checkGolden(t, filepath.Join("testdata", c.name, "want.txt"), got)
		})
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestLoadRecordingNoFiles(t *testing.T) {
	if _, err := LoadRecording(nil, sampleMatch); err == nil {
		t.Fatal("no error for no timeline files")
	}
}

// Fragment order does not matter: each kind fills its part of the frame.
func TestLoadRecordingFragmentOrder(t *testing.T) {
	a, err := LoadRecording([]string{seedFrames, seedEvents}, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadRecording([]string{seedEvents, seedFrames}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Timeline, b.Timeline) {
		t.Error("timelines differ with the fragment order")
	}
	f := a.Timeline.Info.Frames
	if len(f) != 1 || f[0].Timestamp != 420000 || len(f[0].ParticipantFrames) != 10 || len(f[0].Events) != 32 {
		t.Errorf("combined seeds: %d frames, first t=%d participants=%d events=%d; want 1 frame t=420000 with 10 and 32",
			len(f), f[0].Timestamp, len(f[0].ParticipantFrames), len(f[0].Events))
	}
}

// TestLoadRecordingRefusesNonFiles: devices, FIFOs, directories and files
// larger than any match-v5 document are refused by name, before a byte is
// read: /dev/zero would otherwise be read until memory runs out.
func TestLoadRecordingRefusesNonFiles(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.json")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: it takes no disk.
	if err := f.Truncate(MaxFile + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cases := []struct{ file, want string }{
		{"/dev/zero", "/dev/zero: not a regular file (a device): riftbridge replays files"},
		{dir, dir + ": not a regular file (a directory): riftbridge replays files"},
		{huge, huge + ": 67108865 bytes, more than the 64 MiB riftbridge reads: no match-v5 document is that large"},
	}
	if fifo := filepath.Join(dir, "fifo.json"); exec.Command("mkfifo", fifo).Run() == nil {
		cases = append(cases, struct{ file, want string }{fifo, fifo + ": not a regular file (a named pipe): riftbridge replays files"})
	}
	for _, c := range cases {
		for _, files := range [][2]string{{c.file, ""}, {sampleTimeline, c.file}} {
			_, err := LoadRecording([]string{files[0]}, files[1])
			if _, ok := errors.AsType[*InputError](err); !ok || err.Error() != c.want {
				t.Errorf("LoadRecording(%q, %q) = %v, want the *InputError %q", files[0], files[1], err, c.want)
			}
		}
	}
}
