package mapper

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/riftbridge/riftbridge/riot"
)

// Options tune what the mapper emits.
type Options struct {
	// DropTags lists tag keys left out everywhere (e.g. match_id), because
	// each distinct tag combination is a billed custom metric.
	DropTags []string
}

// Timebase maps the game clock onto the wall clock: a game offset t is
// stamped Origin + t/Speed. Backfill uses the real game start and Speed 1; a
// replay at N× uses the replay start and Speed N; Speed 0 stamps everything
// at Origin.
type Timebase struct {
	Origin time.Time
	Speed  float64
}

// At returns the wall-clock time of a game offset in milliseconds. An offset
// beyond what a time.Duration holds (±292 years, hostile data) saturates
// rather than wrapping around to a time on the other side of Origin.
func (tb Timebase) At(gameMillis int64) time.Time {
	if tb.Speed <= 0 {
		return tb.Origin
	}
	d := float64(gameMillis) * float64(time.Millisecond) / tb.Speed
	switch {
	case d >= math.MaxInt64:
		return tb.Origin.Add(math.MaxInt64)
	case d <= math.MinInt64:
		return tb.Origin.Add(math.MinInt64)
	}
	return tb.Origin.Add(time.Duration(d))
}

// Mapper maps the frames of one match, in order. It keeps the running totals
// that Riot only reports as events (kills, objectives, wards), so frames must
// be fed oldest first. It does no I/O and reads no clock.
type Mapper struct {
	info  MatchInfo
	tags  tagger
	match []string // tags shared by every point of the match

	participantTags map[int][]string
	teamTags        map[int][]string
	ids             []int // participants in a stable order

	// Full metric names of the stat blocks, built once rather than per point.
	championMetrics []string
	damageMetrics   []string

	kda   map[int]*kda
	teams map[int]*teamTotals
	// firstBloodSeen guards against a repeated KILL_FIRST_BLOOD in odd data.
	firstBloodSeen bool
}

type kda struct{ kills, deaths, assists int }

// New prepares a mapper for one match.
func New(info MatchInfo, opts Options) *Mapper {
	m := &Mapper{
		info:            info,
		tags:            newTagger(opts.DropTags),
		participantTags: map[int][]string{},
		teamTags:        map[int][]string{},
		kda:             map[int]*kda{},
		teams:           map[int]*teamTotals{TeamBlue: newTeamTotals(), TeamRed: newTeamTotals()},
	}
	var queue string
	if info.Queue > 0 {
		queue = strconv.Itoa(info.Queue)
	}
	m.match = m.tags.add(m.match, TagMatchID, info.MatchID)
	m.match = m.tags.add(m.match, TagPlatform, info.Platform)
	m.match = m.tags.add(m.match, TagQueue, queue)
	m.match = m.tags.add(m.match, TagPatch, info.Patch)
	m.match = m.tags.add(m.match, TagGameMode, info.GameMode)
	for _, team := range []int{TeamBlue, TeamRed} {
		m.teamTags[team] = m.tags.add(slices.Clip(m.match), TagTeam, teamName(team))
	}
	for _, n := range ChampionStatNames() {
		m.championMetrics = append(m.championMetrics, participantChampionPrefix+n)
	}
	for _, n := range DamageStatNames() {
		m.damageMetrics = append(m.damageMetrics, participantDamagePrefix+n)
	}
	for id := range info.Participants {
		m.ids = append(m.ids, id)
	}
	slices.Sort(m.ids)
	return m
}

// Info returns the match description the mapper was built with.
func (m *Mapper) Info() MatchInfo { return m.info }

// Frame maps one frame: participant and team gauges stamped at the frame's
// time, event counts for the events of the interval before it, and Datadog
// events for its notable moments.
func (m *Mapper) Frame(f *riot.Frame, tb Timebase) Batch {
	at := tb.At(f.Timestamp)
	b := Batch{Points: make([]Point, 0, len(f.ParticipantFrames)*(14+25+12)+64)}

	m.applyEvents(f, tb, &b)
	m.participantPoints(f, at, &b)
	m.teamPoints(f, at, &b)
	b.Points = append(b.Points, Point{Name: MetricMatchGameTime, Kind: Gauge, Value: float64(f.Timestamp) / 1000, Tags: m.match, Time: at})
	return b
}

// teamOf returns a participant's team, 0 when unknown.
func (m *Mapper) teamOf(id int) int { return m.info.Participants[id].Team }

func teamName(team int) string {
	switch team {
	case TeamBlue:
		return "blue"
	case TeamRed:
		return "red"
	}
	return ""
}

// enemyOf returns the other side, 0 when the team is unknown.
func enemyOf(team int) int {
	switch team {
	case TeamBlue:
		return TeamRed
	case TeamRed:
		return TeamBlue
	}
	return 0
}
