package riot

import (
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"testing"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
)

const (
	sampleTimeline = "../samples/KR_7014499581.timeline.json"
	sampleMatch    = "../samples/KR_7014499581.match.json"
	seedFrames     = "../samples/seed_frame_interval.json"
	seedEvents     = "../samples/seed_event_interval.json"
)

func eventCounts(tl *Timeline) map[string]int {
	counts := map[string]int{}
	for _, f := range tl.Info.Frames {
		for _, e := range f.Events {
			counts[e.Type]++
		}
	}
	return counts
}

func TestDecodeTimelineSample(t *testing.T) {
	tl, err := DecodeTimeline(bridgetest.ReadFile(t, sampleTimeline), sampleTimeline)
	if err != nil {
		t.Fatal(err)
	}
	if got := tl.Metadata.MatchID; got != "KR_7014499581" {
		t.Errorf("matchId = %q, want KR_7014499581", got)
	}
	if got := len(tl.Info.Frames); got != 30 {
		t.Fatalf("frames = %d, want 30", got)
	}
	for i, f := range tl.Info.Frames {
		if len(f.ParticipantFrames) != 10 {
			t.Errorf("frame %d: %d participant frames, want 10", i, len(f.ParticipantFrames))
		}
	}
	wantCounts := map[string]int{
		"BUILDING_KILL": 11, "CHAMPION_KILL": 49, "CHAMPION_SPECIAL_KILL": 9, "ELITE_MONSTER_KILL": 13,
		"GAME_END": 1, "ITEM_DESTROYED": 297, "ITEM_PURCHASED": 269, "ITEM_SOLD": 12, "ITEM_UNDO": 4,
		"LEVEL_UP": 146, "PAUSE_END": 1, "SKILL_LEVEL_UP": 158, "TURRET_PLATE_DESTROYED": 10,
		"WARD_KILL": 100, "WARD_PLACED": 188,
	}
	if got := eventCounts(tl); !maps.Equal(got, wantCounts) {
		t.Errorf("event counts = %v, want %v", got, wantCounts)
	}
	last := tl.Info.Frames[29]
	if last.Timestamp != 1739347 {
		t.Errorf("last frame timestamp = %d, want 1739347", last.Timestamp)
	}
	p1 := last.ParticipantFrames[1]
	if p1.TotalGold != 10190 || p1.ChampionStats.HealthMax != 3311 {
		t.Errorf("participant 1: totalGold %d healthMax %d, want 10190 3311", p1.TotalGold, p1.ChampionStats.HealthMax)
	}
	var gameEnd *Event
	for i, e := range last.Events {
		if e.Type == EventGameEnd {
			gameEnd = &last.Events[i]
		}
	}
	if gameEnd == nil || gameEnd.WinningTeam != 200 || gameEnd.RealTimestamp == nil {
		t.Errorf("GAME_END = %+v, want winningTeam 200 with realTimestamp", gameEnd)
	}
}

func TestDecodeMatchSample(t *testing.T) {
	m, err := DecodeMatch(bridgetest.ReadFile(t, sampleMatch), sampleMatch)
	if err != nil {
		t.Fatal(err)
	}
	if m.Info.QueueID != 420 || m.Info.GameVersion != "14.7.571.9528" || len(m.Info.Participants) != 10 {
		t.Errorf("queue %d version %q participants %d, want 420 14.7.571.9528 10",
			m.Info.QueueID, m.Info.GameVersion, len(m.Info.Participants))
	}
	p := m.Info.Participants[0]
	if p.ParticipantID != 1 || p.TeamID != 100 || p.ChampionName != "Aatrox" || p.TeamPosition != "TOP" || p.RiotIDGameName != "젠지 한별" {
		t.Errorf("participant 1 = %d team %d %s %s %q, want 1 team 100 Aatrox TOP \"젠지 한별\"",
			p.ParticipantID, p.TeamID, p.ChampionName, p.TeamPosition, p.RiotIDGameName)
	}
}

// decodeCase is one input for DecodeTimeline or DecodeMatch: a fixture file,
// or inline data under the name inline.json.
type decodeCase struct {
	name    string
	file    string
	data    string
	wantLen int   // frames of a timeline, participants of a match
	wantIs  error // sentinel, when an error is expected
	// wantOffset is the InputError offset; -1 for errors that are not JSON errors.
	wantOffset int64
	wantMsg    string // exact error message; "" means no error
}

func (c decodeCase) input(t *testing.T) ([]byte, string) {
	if c.file == "" {
		return []byte(c.data), "inline.json"
	}
	return bridgetest.ReadFile(t, c.file), c.file
}

func checkDecodeErr(t *testing.T, c decodeCase, file string, err error) {
	t.Helper()
	if c.wantMsg == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %q", c.wantMsg)
	}
	if got := err.Error(); got != c.wantMsg {
		t.Errorf("error = %q\nwant    %q", got, c.wantMsg)
	}
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %T is not an *InputError", err)
	}
	if ie.File != file || ie.Offset != c.wantOffset {
		t.Errorf("InputError file %q offset %d, want %q %d", ie.File, ie.Offset, file, c.wantOffset)
	}
	if c.wantIs != nil && !errors.Is(err, c.wantIs) {
		t.Errorf("errors.Is(%v, %v) = false", err, c.wantIs)
	}
}

func TestDecodeTimeline(t *testing.T) {
	cases := []decodeCase{
		{name: "sample", file: sampleTimeline, wantLen: 30},
		{name: "participantFrames fragment", file: seedFrames, wantLen: 1},
		{name: "events fragment", file: seedEvents, wantLen: 1},
		{name: "arena 16 participants", file: "testdata/arena/timeline.json", wantLen: 3},
		{name: "2022 without endOfGameResult", file: "testdata/legacy_2022/timeline.json", wantLen: 2},
		{name: "unknown event types", file: "testdata/unknown_event/timeline.json", wantLen: 2},
		{
			name: "malformed", file: "testdata/malformed/timeline.json", wantOffset: 72,
			wantMsg: "testdata/malformed/timeline.json: invalid JSON at byte 72: invalid character ',' looking for beginning of object key string",
		},
		{
			name: "truncated", file: "testdata/truncated/timeline.json", wantOffset: 100,
			wantMsg: "testdata/truncated/timeline.json: invalid JSON at byte 100: unexpected end of input",
		},
		{
			name: "wrong type", file: "testdata/wrong_type/timeline.json", wantOffset: 38,
			wantMsg: "testdata/wrong_type/timeline.json: invalid value at byte 38: cannot unmarshal string into info.frames.timestamp (int64)",
		},
		{
			name: "empty file", file: "testdata/empty/timeline.json", wantIs: ErrEmpty, wantOffset: -1,
			wantMsg: "testdata/empty/timeline.json: no data: file is empty",
		},
		{
			name: "aborted", file: "testdata/aborted/timeline.json", wantIs: ErrAborted, wantOffset: -1,
			wantMsg: `testdata/aborted/timeline.json: game aborted: endOfGameResult "Abort_Unexpected"`,
		},
		{
			name: "no frames", file: "testdata/no_frames/timeline.json", wantIs: ErrNoFrames, wantOffset: -1,
			wantMsg: "testdata/no_frames/timeline.json: timeline has no frames",
		},
		{
			name: "match passed as timeline", file: sampleMatch, wantIs: ErrNotTimeline, wantOffset: -1,
			wantMsg: sampleMatch + ": not a match-v5 timeline: looks like a match-v5 match; pass it with --match",
		},
		{
			name: "whitespace only", data: " \n\t ", wantIs: ErrEmpty, wantOffset: -1,
			wantMsg: "inline.json: no data: file is empty",
		},
		{
			name: "null", data: "null", wantIs: ErrNotTimeline, wantOffset: -1,
			wantMsg: "inline.json: not a match-v5 timeline: top-level JSON is null, want an object or array",
		},
		{
			name: "number", data: "42\n", wantIs: ErrNotTimeline, wantOffset: -1,
			wantMsg: "inline.json: not a match-v5 timeline: top-level JSON is a number, want an object or array",
		},
		{
			name: "string", data: `"KR_1"`, wantIs: ErrNotTimeline, wantOffset: -1,
			wantMsg: "inline.json: not a match-v5 timeline: top-level JSON is a string, want an object or array",
		},
		{
			name: "boolean", data: "true", wantIs: ErrNotTimeline, wantOffset: -1,
			wantMsg: "inline.json: not a match-v5 timeline: top-level JSON is a boolean, want an object or array",
		},
		{
			name: "empty object", data: "{ }", wantIs: ErrNotTimeline, wantOffset: -1,
			wantMsg: `inline.json: not a match-v5 timeline: no "info" object`,
		},
		{
			name: "empty array", data: "[]", wantIs: ErrEmpty, wantOffset: -1,
			wantMsg: "inline.json: no data: empty events array",
		},
		{
			name: "not JSON", data: "hello", wantOffset: 1,
			wantMsg: "inline.json: invalid JSON at byte 1: invalid character 'h' looking for beginning of value",
		},
		{
			name: "trailing data", data: "[{}] x", wantOffset: 6,
			wantMsg: "inline.json: invalid JSON at byte 6: invalid character 'x' after top-level value",
		},
		{
			name: "array of numbers", data: "[1]", wantOffset: 2,
			wantMsg: "inline.json: invalid value at byte 2: cannot unmarshal number into top-level value (riot.Event)",
		},
		{
			name: "participant frame not an object", data: `{"1": 5}`, wantOffset: 7,
			wantMsg: "inline.json: invalid value at byte 7: cannot unmarshal number into top-level value (riot.ParticipantFrame)",
		},
		{name: "UTF-8 byte order mark", data: "\uFEFF" + `{"1": {"totalGold": 500}}`, wantLen: 1},
		{
			name: "UTF-16 with a byte order mark", data: "\xFF\xFE{\x00}\x00", wantOffset: -1,
			wantMsg: "inline.json: the file is UTF-16 or UTF-32 text; save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8",
		},
		{
			name: "UTF-16 without one", data: "{\x00\"\x001\x00", wantOffset: -1,
			wantMsg: "inline.json: the file is UTF-16 or UTF-32 text; save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8",
		},
		{
			name: "frame repeated", data: `{"info": {"frames": [{"timestamp": 0}, {"timestamp": 60000}, {"timestamp": 60000}]}}`, wantOffset: -1,
			wantMsg: "inline.json: frame 2 at 60000 ms does not come after frame 1 at 60000 ms: frames repeated or out of order",
		},
		{
			name: "frames out of order", data: `{"info": {"frames": [{"timestamp": 60000}, {"timestamp": 0}]}}`, wantOffset: -1,
			wantMsg: "inline.json: frame 1 at 0 ms does not come after frame 0 at 60000 ms: frames repeated or out of order",
		},
		{
			name:       "participant the timeline does not list",
			data:       `{"info": {"participants": [{"participantId": 1}, {"participantId": 2}], "frames": [{"timestamp": 0, "participantFrames": {"1": {}, "3": {}}}]}}`,
			wantOffset: -1,
			wantMsg:    "inline.json: frame 0: participantFrames holds participant 3; participant ids run from 1 to 2",
		},
		{
			name: "participant id out of range in a fragment", data: `{"1": {}, "17": {}}`, wantOffset: -1,
			wantMsg: "inline.json: frame 0: participantFrames holds participant 17; participant ids run from 1 to 16",
		},
		{
			name: "participant id zero", data: `{"info": {"frames": [{"timestamp": 0, "participantFrames": {"0": {}}}]}}`, wantOffset: -1,
			wantMsg: "inline.json: frame 0: participantFrames holds participant 0; participant ids run from 1 to 16",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, file := c.input(t)
			tl, err := DecodeTimeline(data, file)
			checkDecodeErr(t, c, file, err)
			if err == nil && len(tl.Info.Frames) != c.wantLen {
				t.Errorf("frames = %d, want %d", len(tl.Info.Frames), c.wantLen)
			}
		})
	}
}

func TestDecodeMatch(t *testing.T) {
	cases := []decodeCase{
		{name: "sample", file: sampleMatch, wantLen: 10},
		{name: "arena 16 participants", file: "testdata/arena/match.json", wantLen: 16},
		{name: "2022 ARAM", file: "testdata/legacy_2022/match.json", wantLen: 10},
		{
			name: "aborted", file: "testdata/aborted_match/match.json", wantIs: ErrAborted, wantOffset: -1,
			wantMsg: `testdata/aborted_match/match.json: game aborted: endOfGameResult "Abort_Unexpected"`,
		},
		{
			name: "timeline passed as match", file: sampleTimeline, wantIs: ErrNotMatch, wantOffset: -1,
			wantMsg: sampleTimeline + ": not a match-v5 match: looks like a match-v5 timeline",
		},
		{
			name: "fragment passed as match", file: seedEvents, wantIs: ErrNotMatch, wantOffset: -1,
			wantMsg: seedEvents + ": not a match-v5 match: top-level JSON is an array, want an object",
		},
		{
			name: "empty file", file: "testdata/empty/timeline.json", wantIs: ErrEmpty, wantOffset: -1,
			wantMsg: "testdata/empty/timeline.json: no data: file is empty",
		},
		{
			name: "null", data: "null", wantIs: ErrNotMatch, wantOffset: -1,
			wantMsg: "inline.json: not a match-v5 match: top-level JSON is null, want an object",
		},
		{
			name: "no info", data: `{"metadata": {"matchId": "KR_1"}}`, wantIs: ErrNotMatch, wantOffset: -1,
			wantMsg: `inline.json: not a match-v5 match: no "info" object`,
		},
		{
			name: "truncated", data: `{"info": {"queueId": 42`, wantOffset: 23,
			wantMsg: "inline.json: invalid JSON at byte 23: unexpected end of input",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, file := c.input(t)
			m, err := DecodeMatch(data, file)
			checkDecodeErr(t, c, file, err)
			if err == nil && len(m.Info.Participants) != c.wantLen {
				t.Errorf("participants = %d, want %d", len(m.Info.Participants), c.wantLen)
			}
		})
	}
}

func TestDecodeTimelineFragments(t *testing.T) {
	cases := []struct {
		file         string
		wantTime     int64
		wantPartic   int
		wantEvents   int
		wantInterval int64
	}{
		// The last seed event is at 412584 ms: the frame closing it is at 420000.
		{file: seedEvents, wantTime: 420000, wantEvents: 32, wantInterval: 60000},
		{file: seedFrames, wantTime: 0, wantPartic: 10, wantInterval: 60000},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			tl, err := DecodeTimeline(bridgetest.ReadFile(t, c.file), c.file)
			if err != nil {
				t.Fatal(err)
			}
			f := tl.Info.Frames[0]
			if f.Timestamp != c.wantTime || len(f.ParticipantFrames) != c.wantPartic || len(f.Events) != c.wantEvents {
				t.Errorf("frame t=%d participants=%d events=%d, want t=%d participants=%d events=%d",
					f.Timestamp, len(f.ParticipantFrames), len(f.Events), c.wantTime, c.wantPartic, c.wantEvents)
			}
			if tl.Info.FrameInterval != c.wantInterval {
				t.Errorf("frameInterval = %d, want %d", tl.Info.FrameInterval, c.wantInterval)
			}
		})
	}
}

func TestFragmentTimestamp(t *testing.T) {
	cases := []struct {
		name  string
		times []int64
		want  int64
	}{
		{name: "no events", want: 0},
		{name: "only at 0", times: []int64{0}, want: 0},
		{name: "on a boundary", times: []int64{1000, 120000}, want: 120000},
		{name: "just past a boundary", times: []int64{120001, 5}, want: 180000},
		{name: "negative", times: []int64{-5}, want: 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var events []Event
			for _, ts := range c.times {
				events = append(events, Event{Timestamp: ts})
			}
			if got := fragmentTimestamp(events); got != c.want {
				t.Errorf("fragmentTimestamp(%v) = %d, want %d", c.times, got, c.want)
			}
		})
	}
}

func TestDecodeTimelineKeepsUnknownEvents(t *testing.T) {
	const file = "testdata/unknown_event/timeline.json"
	tl, err := DecodeTimeline(bridgetest.ReadFile(t, file), file)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range tl.Info.Frames[1].Events {
		types = append(types, e.Type)
	}
	want := []string{"FEAT_UPDATE", "CHAMPION_TRANSFORM", "RIFTBRIDGE_FUTURE_EVENT"}
	if len(types) != len(want) {
		t.Fatalf("event types = %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Errorf("event %d type = %q, want %q", i, types[i], want[i])
		}
	}
	feat := tl.Info.Frames[1].Events[0]
	if feat.FeatType == nil || *feat.FeatType != 1 || feat.FeatValue == nil || *feat.FeatValue != 1000 {
		t.Errorf("FEAT_UPDATE featType/featValue = %v/%v, want 1/1000", feat.FeatType, feat.FeatValue)
	}
}

// FuzzDecodeTimeline is seeded with the real samples. Fuzz it with
// -fuzzminimizetime=2s: minimizing inputs the size of the sample timeline
// otherwise stalls the engine for minutes.
func FuzzDecodeTimeline(f *testing.F) {
	for _, file := range []string{
		sampleTimeline, sampleMatch, seedFrames, seedEvents,
		"testdata/arena/timeline.json", "testdata/aborted/timeline.json", "testdata/malformed/timeline.json",
		"testdata/truncated/timeline.json", "testdata/unknown_event/timeline.json",
	} {
		f.Add(bridgetest.ReadFile(f, file))
	}
	for _, s := range []string{"", "null", "{}", "[]", `{"1":{}}`, `[{"timestamp":9223372036854775807}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tl, err := DecodeTimeline(data, "fuzz.json")
		if err == nil && len(tl.Info.Frames) == 0 {
			t.Fatal("nil error with no frames")
		}
		var ie *InputError
		if err != nil && (!errors.As(err, &ie) || ie.File != "fuzz.json" || err.Error() == "") {
			t.Fatalf("error %v (%T) is not an *InputError naming the file", err, err)
		}
	})
}

func BenchmarkDecodeTimeline(b *testing.B) {
	data := bridgetest.ReadFile(b, sampleTimeline)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeTimeline(data, sampleTimeline); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeTimelineStdlib is the floor DecodeTimeline is measured against.
func BenchmarkDecodeTimelineStdlib(b *testing.B) {
	data := bridgetest.ReadFile(b, sampleTimeline)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var tl Timeline
		if err := json.Unmarshal(data, &tl); err != nil {
			b.Fatal(err)
		}
	}
}
