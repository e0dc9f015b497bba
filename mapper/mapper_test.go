package mapper_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const (
	sampleTimeline = "../samples/KR_7014499581.timeline.json"
	sampleMatch    = "../samples/KR_7014499581.match.json"
	seedFrame      = "../samples/seed_frame_interval.json"
	seedEvents     = "../samples/seed_event_interval.json"
)

func load(t testing.TB, timelines []string, match string) *riot.Recording {
	t.Helper()
	rec, err := riot.LoadRecording(timelines, match)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// mapAll maps every frame and returns the batches in order.
func mapAll(rec *riot.Recording, opts mapper.Options, tb mapper.Timebase) []mapper.Batch {
	m := mapper.New(mapper.Describe(rec.Timeline, rec.Match), opts)
	out := make([]mapper.Batch, 0, len(rec.Timeline.Info.Frames))
	for i := range rec.Timeline.Info.Frames {
		out = append(out, m.Frame(&rec.Timeline.Info.Frames[i], tb))
	}
	return out
}

func last(t *testing.T, b mapper.Batch, name string, tags ...string) float64 {
	t.Helper()
	var found []float64
	for _, p := range b.Points {
		if p.Name == name && containsAll(p.Tags, tags) {
			found = append(found, p.Value)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s%v: %d points, want exactly 1", name, tags, len(found))
	}
	return found[0]
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// TestFinalFiguresMatchRiotTotals checks the mapper's running totals at the
// last frame against figures computed by hand from the sample, and against
// the match file's own end-of-game totals (an independent Riot source).
func TestFinalFiguresMatchRiotTotals(t *testing.T) {
	rec := load(t, []string{sampleTimeline}, sampleMatch)
	batches := mapAll(rec, mapper.Options{}, mapper.Timebase{Origin: time.Unix(0, 0)})
	final := batches[len(batches)-1]

	hand := []struct {
		metric string
		team   string
		want   float64
	}{
		{mapper.MetricTeamGold, "blue", 56649}, {mapper.MetricTeamGold, "red", 64250},
		{mapper.MetricTeamKills, "blue", 23}, {mapper.MetricTeamKills, "red", 26},
		{mapper.MetricTeamDeaths, "blue", 26}, {mapper.MetricTeamDeaths, "red", 23},
		{mapper.MetricTeamDragons, "blue", 3}, {mapper.MetricTeamDragons, "red", 1},
		{mapper.MetricTeamTowers, "blue", 3}, {mapper.MetricTeamTowers, "red", 7},
		{mapper.MetricTeamInhibitors, "blue", 0}, {mapper.MetricTeamInhibitors, "red", 1},
		{mapper.MetricTeamBarons, "blue", 0}, {mapper.MetricTeamBarons, "red", 2},
		{mapper.MetricTeamHeralds, "blue", 0}, {mapper.MetricTeamHeralds, "red", 1},
		{mapper.MetricTeamVoidgrubs, "blue", 3}, {mapper.MetricTeamVoidgrubs, "red", 3},
		{mapper.MetricTeamPlates, "blue", 3}, {mapper.MetricTeamPlates, "red", 7},
		{mapper.MetricTeamWardsPlaced, "blue", 111}, {mapper.MetricTeamWardsPlaced, "red", 77},
	}
	for _, h := range hand {
		if got := last(t, final, h.metric, "team:"+h.team); got != h.want {
			t.Errorf("%s team:%s = %v, want %v", h.metric, h.team, got, h.want)
		}
	}
	if got := last(t, final, mapper.MetricMatchGoldDiff); got != 56649-64250 {
		t.Errorf("gold diff = %v, want %v", got, 56649-64250)
	}
	if got := last(t, final, mapper.MetricTeamDragonsByType, "team:blue", "dragon_type:earth"); got != 2 {
		t.Errorf("blue earth dragons = %v, want 2", got)
	}

	// Riot's own end-of-game totals must agree with what we derived from events.
	objective := map[string]string{
		mapper.MetricTeamKills: "champion", mapper.MetricTeamDragons: "dragon", mapper.MetricTeamTowers: "tower",
		mapper.MetricTeamBarons: "baron", mapper.MetricTeamHeralds: "riftHerald", mapper.MetricTeamInhibitors: "inhibitor",
		mapper.MetricTeamVoidgrubs: "horde",
	}
	for _, team := range rec.Match.Info.Teams {
		side := map[int]string{100: "blue", 200: "red"}[team.TeamID]
		for metric, key := range objective {
			if got, want := last(t, final, metric, "team:"+side), float64(team.Objectives[key].Kills); got != want {
				t.Errorf("%s team:%s = %v, match file says %s.kills = %v", metric, side, got, key, want)
			}
		}
	}
	for _, p := range rec.Match.Info.Participants {
		id := "participant_id:" + strconv.Itoa(p.ParticipantID)
		for metric, want := range map[string]int{
			mapper.MetricParticipantGold: p.GoldEarned, mapper.MetricParticipantKills: p.Kills,
			mapper.MetricParticipantDeaths: p.Deaths, mapper.MetricParticipantAssists: p.Assists,
		} {
			if got := last(t, final, metric, id); got != float64(want) {
				t.Errorf("%s %s = %v, match file says %d", metric, id, got, want)
			}
		}
	}
}

func TestEveryParticipantHasEveryStat(t *testing.T) {
	rec := load(t, []string{sampleTimeline}, sampleMatch)
	final := mapAll(rec, mapper.Options{}, mapper.Timebase{})[len(rec.Timeline.Info.Frames)-1]
	for id := 1; id <= 10; id++ {
		tag := "participant_id:" + strconv.Itoa(id)
		for _, n := range mapper.ChampionStatNames() {
			last(t, final, "participant.champion."+n, tag)
		}
		for _, n := range mapper.DamageStatNames() {
			last(t, final, "participant.damage."+n, tag)
		}
	}
	if got := last(t, final, "participant.champion.health_max", "participant_id:1", "champion:aatrox", "position:top", "team:blue"); got != 3311 {
		t.Errorf("Aatrox health_max = %v, want 3311", got)
	}
	if got := last(t, final, "participant.damage.total_damage_done_to_champions", "participant_id:1"); got != 17366 {
		t.Errorf("Aatrox total_damage_done_to_champions = %v, want 17366", got)
	}
}

// TestCatalogCoversOutput keeps the README table and dashboards honest: every
// emitted metric is in the catalog with the right kind and only catalogued
// tags, and every catalogued metric is emitted by the sample.
func TestCatalogCoversOutput(t *testing.T) {
	specs := map[string]mapper.Spec{}
	for _, s := range mapper.Catalog() {
		if _, dup := specs[s.Name]; dup {
			t.Errorf("catalog lists %s twice", s.Name)
		}
		specs[s.Name] = s
	}
	rec := load(t, []string{sampleTimeline}, sampleMatch)
	emitted := map[string]bool{}
	batches := mapAll(rec, mapper.Options{}, mapper.Timebase{})
	// And the Live Client captures, whose metrics the timeline lacks.
	for _, path := range []string{captureRanked, captureSpectate, capturePractice} {
		g := loadCapture(t, path)
		batches = append(batches, pollAll(mapper.NewLiveGame(mapper.Options{}), livePolls(g, []int{len(g.Events.Events)}, "KR_1", time.Time{}))...)
	}
	for _, b := range batches {
		for _, p := range b.Points {
			emitted[p.Name] = true
			s, ok := specs[p.Name]
			if !ok {
				t.Fatalf("%s is emitted but not in the catalog", p.Name)
			}
			if s.Kind != p.Kind {
				t.Errorf("%s emitted as %v, catalog says %v", p.Name, p.Kind, s.Kind)
			}
			for _, tag := range p.Tags {
				key, _, _ := strings.Cut(tag, ":")
				if !slices.Contains(s.Tags, key) {
					t.Errorf("%s carries tag %q not listed in the catalog", p.Name, tag)
				}
			}
		}
	}
	for name := range specs {
		// Live and bridge metrics come from `riftbridge run`, not from frames.
		if strings.HasPrefix(name, "live.") || strings.HasPrefix(name, "bridge.") {
			continue
		}
		if !emitted[name] {
			t.Errorf("catalog lists %s but neither the sample nor the Live Client captures emit it", name)
		}
	}
}

func TestDropTags(t *testing.T) {
	rec := load(t, []string{sampleTimeline}, sampleMatch)
	for _, b := range mapAll(rec, mapper.Options{DropTags: []string{mapper.TagMatchID, mapper.TagChampion}}, mapper.Timebase{}) {
		for _, p := range b.Points {
			for _, tag := range p.Tags {
				if strings.HasPrefix(tag, "match_id:") || strings.HasPrefix(tag, "champion:") {
					t.Fatalf("%s still carries %s", p.Name, tag)
				}
			}
		}
		for _, e := range b.Events {
			for _, tag := range e.Tags {
				if strings.HasPrefix(tag, "match_id:") {
					t.Fatalf("event %q still carries %s", e.Title, tag)
				}
			}
		}
	}
}

func TestTimebase(t *testing.T) {
	origin := time.Date(2024, 4, 3, 16, 26, 59, 935_000_000, time.UTC)
	tests := []struct {
		tb     mapper.Timebase
		millis int64
		want   time.Time
	}{
		{mapper.Timebase{Origin: origin, Speed: 1}, 60_021, origin.Add(60021 * time.Millisecond)},
		{mapper.Timebase{Origin: origin, Speed: 60}, 60_000, origin.Add(time.Second)},
		{mapper.Timebase{Origin: origin, Speed: 0}, 1_739_347, origin},
	}
	for _, tt := range tests {
		if got := tt.tb.At(tt.millis); !got.Equal(tt.want) {
			t.Errorf("%+v.At(%d) = %v, want %v", tt.tb, tt.millis, got, tt.want)
		}
	}
}

func TestBackfillStampsTrueTimes(t *testing.T) {
	rec := load(t, []string{sampleTimeline}, sampleMatch)
	info := mapper.Describe(rec.Timeline, rec.Match)
	start := time.UnixMilli(1712161619935).UTC()
	if !info.Start.Equal(start) {
		t.Fatalf("start = %v, want gameStartTimestamp %v", info.Start, start)
	}
	batches := mapAll(rec, mapper.Options{}, mapper.Timebase{Origin: info.Start, Speed: 1})
	final := batches[len(batches)-1]
	if want := start.Add(1739347 * time.Millisecond); !final.Points[0].Time.Equal(want) {
		t.Errorf("last frame stamped %v, want %v", final.Points[0].Time, want)
	}
	var gameEnd mapper.Event
	for _, e := range final.Events {
		if slices.Contains(e.Tags, "moment:game_end") {
			gameEnd = e
		}
	}
	// GAME_END carries its own wall clock: within a second of our stamp.
	if d := gameEnd.Time.Sub(time.UnixMilli(1712163359258)); d < -time.Second || d > time.Second {
		t.Errorf("game end stamped %v, %v from Riot's realTimestamp", gameEnd.Time, d)
	}
}

func TestDescribeWithoutMatch(t *testing.T) {
	rec := load(t, []string{sampleTimeline}, "")
	info := mapper.Describe(rec.Timeline, nil)
	if info.Platform != "KR" || info.Queue != 0 || info.Patch != "" {
		t.Errorf("platform/queue/patch = %q/%d/%q, want KR/0/\"\"", info.Platform, info.Queue, info.Patch)
	}
	if info.Participants[3].Team != mapper.TeamBlue || info.Participants[8].Team != mapper.TeamRed || info.Participants[3].Champion != "" {
		t.Errorf("participants = %+v", info.Participants)
	}
	// PAUSE_END realTimestamp − its game time ≈ gameStartTimestamp (±0.1 s).
	if d := info.Start.Sub(time.UnixMilli(1712161619935)); d < -100*time.Millisecond || d > 100*time.Millisecond {
		t.Errorf("start inferred %v, %v from the match file's", info.Start, d)
	}
}

func TestDeterministic(t *testing.T) {
	rec := load(t, []string{sampleTimeline}, sampleMatch)
	tb := mapper.Timebase{Origin: time.Unix(1_700_000_000, 0), Speed: 10}
	a := render(mapAll(rec, mapper.Options{}, tb))
	b := render(mapAll(rec, mapper.Options{}, tb))
	if a != b {
		t.Fatal("two runs over the same input differ")
	}
}

// TestGolden pins the mapper's full output for each case under
// testdata/<case>/ (go test ./mapper -update rewrites them).
func TestGolden(t *testing.T) {
	origin := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		timelines []string
		match     string
		opts      mapper.Options
		backfill  bool
	}{
		{name: "kr-with-match", timelines: []string{sampleTimeline}, match: sampleMatch, backfill: true},
		{name: "kr-timeline-only", timelines: []string{sampleTimeline}},
		{name: "kr-drop-match-id", timelines: []string{sampleTimeline}, match: sampleMatch, opts: mapper.Options{DropTags: []string{mapper.TagMatchID}}},
		{name: "seed-frame", timelines: []string{seedFrame}},
		{name: "seed-events", timelines: []string{seedEvents}},
		{name: "seed-combined", timelines: []string{seedFrame, seedEvents}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := load(t, tt.timelines, tt.match)
			tb := mapper.Timebase{Origin: origin, Speed: 60}
			if tt.backfill {
				tb = mapper.Timebase{Origin: mapper.Describe(rec.Timeline, rec.Match).Start, Speed: 1}
			}
			got := render(mapAll(rec, tt.opts, tb))
			checkGolden(t, filepath.Join("testdata", tt.name, "output.golden"), got)
		})
	}
}

// render prints batches one point or event per line. The full sample is
// large, so participant frames are pinned for the first and last frames only;
// team, match and event lines are pinned for every frame.
func render(batches []mapper.Batch) string {
	var b strings.Builder
	for i, batch := range batches {
		fmt.Fprintf(&b, "# frame %d\n", i)
		for _, p := range batch.Points {
			if strings.HasPrefix(p.Name, "participant.") && i != 0 && i != len(batches)-1 {
				continue
			}
			fmt.Fprintf(&b, "%s %s %v %s %s\n", p.Kind, p.Name, p.Value, strings.Join(p.Tags, ","), p.Time.UTC().Format(time.RFC3339Nano))
		}
		for _, e := range batch.Events {
			fmt.Fprintf(&b, "event %q %q %s %s %s %s\n", e.Title, e.Text, e.AlertType, e.AggregationKey, strings.Join(e.Tags, ","), e.Time.UTC().Format(time.RFC3339Nano))
		}
	}
	return b.String()
}

// TestTimebaseSaturates: an offset too large for a time.Duration lands at
// the far end of time on its own side of the origin, never wraps around.
func TestTimebaseSaturates(t *testing.T) {
	origin := time.Date(2024, 4, 3, 16, 26, 59, 0, time.UTC)
	tb := mapper.Timebase{Origin: origin, Speed: 1}
	if got := tb.At(9e18); !got.After(origin.AddDate(290, 0, 0)) {
		t.Errorf("At(9e18) = %v, want about 292 years after %v", got, origin)
	}
	if got := tb.At(-9e18); !got.Before(origin.AddDate(-290, 0, 0)) {
		t.Errorf("At(-9e18) = %v, want about 292 years before %v", got, origin)
	}
	if got := (mapper.Timebase{Origin: origin, Speed: 0.001}).At(1e16); !got.After(origin) {
		t.Errorf("a slow replay of a late frame lands at %v, before its origin", got)
	}
	if got, want := tb.At(60000), origin.Add(time.Minute); !got.Equal(want) {
		t.Errorf("At(60000) = %v, want %v", got, want)
	}
}

// checkGolden compares got with the golden file at path, which -update
// rewrites.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s; run go test ./mapper -update and review the diff", path)
	}
}
