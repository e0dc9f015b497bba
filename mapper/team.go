package mapper

import (
	"slices"
	"time"

	"github.com/riftbridge/riftbridge/riot"
)

// teamTotals are a team's running totals from events; Riot's frames carry
// only per-participant snapshots.
type teamTotals struct {
	kills, deaths                       int
	towers, inhibitors, plates          int
	dragons, barons, heralds, voidgrubs int
	atakhans, wardsPlaced, wardsKilled  int
	dragonsByType                       map[string]int
}

func newTeamTotals() *teamTotals { return &teamTotals{dragonsByType: map[string]int{}} }

// teamPoints emits team gauges and the blue−red diffs. Teams are only
// emitted when every participant's side is known, so a half-known roster
// never produces a misleading total.
func (m *Mapper) teamPoints(f *riot.Frame, at time.Time, b *Batch) {
	type sums struct{ gold, xp, cs, members int }
	perTeam := map[int]*sums{TeamBlue: {}, TeamRed: {}}
	for id, pf := range f.ParticipantFrames {
		s, ok := perTeam[m.teamOf(id)]
		if !ok {
			return
		}
		s.gold += pf.TotalGold
		s.xp += pf.XP
		s.cs += pf.MinionsKilled + pf.JungleMinionsKilled
		s.members++
	}
	if perTeam[TeamBlue].members == 0 || perTeam[TeamRed].members == 0 {
		return
	}
	for _, team := range []int{TeamBlue, TeamRed} {
		s, t, tags := perTeam[team], m.teams[team], m.teamTags[team]
		gauge := func(name string, v int) {
			b.Points = append(b.Points, Point{Name: name, Kind: Gauge, Value: float64(v), Tags: tags, Time: at})
		}
		gauge(MetricTeamGold, s.gold)
		gauge(MetricTeamXP, s.xp)
		gauge(MetricTeamCS, s.cs)
		gauge(MetricTeamKills, t.kills)
		gauge(MetricTeamDeaths, t.deaths)
		gauge(MetricTeamTowers, t.towers)
		gauge(MetricTeamInhibitors, t.inhibitors)
		gauge(MetricTeamPlates, t.plates)
		gauge(MetricTeamDragons, t.dragons)
		gauge(MetricTeamBarons, t.barons)
		gauge(MetricTeamHeralds, t.heralds)
		gauge(MetricTeamVoidgrubs, t.voidgrubs)
		gauge(MetricTeamAtakhans, t.atakhans)
		gauge(MetricTeamWardsPlaced, t.wardsPlaced)
		gauge(MetricTeamWardsKilled, t.wardsKilled)
		kinds := make([]string, 0, len(t.dragonsByType))
		for kind := range t.dragonsByType {
			kinds = append(kinds, kind)
		}
		slices.Sort(kinds)
		for _, kind := range kinds {
			b.Points = append(b.Points, Point{Name: MetricTeamDragonsByType, Kind: Gauge, Value: float64(t.dragonsByType[kind]),
				Tags: m.tags.add(slices.Clip(tags), TagDragonType, kind), Time: at})
		}
	}
	blue, red := perTeam[TeamBlue], perTeam[TeamRed]
	b.Points = append(b.Points,
		Point{Name: MetricMatchGoldDiff, Kind: Gauge, Value: float64(blue.gold - red.gold), Tags: m.match, Time: at},
		Point{Name: MetricMatchXPDiff, Kind: Gauge, Value: float64(blue.xp - red.xp), Tags: m.match, Time: at},
	)
}
