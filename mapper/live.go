package mapper

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/riftbridge/riftbridge/riot"
)

// Live maps a spectator observation of a tracked player: whether they are in
// a game and for how long, plus an event when a game starts or ends. Its
// points carry no time, so the Agent stamps them as they arrive; events are
// stamped at, the time of the poll.
func Live(l riot.Live, opts Options, at time.Time) Batch {
	t := newTagger(opts.DropTags)
	base := t.add(nil, TagPlatform, l.Player.Platform)
	base = t.add(base, TagPlayer, l.Player.RiotID)
	var b Batch
	inGame := 0.0
	if l.Game != nil && !l.Ended {
		inGame = 1
	}
	b.Points = append(b.Points, Point{Name: MetricLiveInGame, Kind: Gauge, Value: inGame, Tags: base})
	if l.Game == nil {
		return b
	}

	g := l.Game
	tags := slices.Clip(base)
	if g.GameQueueConfigID > 0 {
		tags = t.add(tags, TagQueue, strconv.Itoa(g.GameQueueConfigID))
	}
	tags = t.add(tags, TagGameMode, g.GameMode)
	var me riot.ActiveParticipant
	for _, p := range g.Participants {
		if p.PUUID == l.Player.PUUID {
			me = p
		}
	}
	tags = t.add(tags, TagTeam, teamName(me.TeamID))
	if me.ChampionID > 0 {
		tags = t.add(tags, TagChampionID, strconv.Itoa(me.ChampionID))
	}
	if !l.Ended {
		b.Points = append(b.Points, Point{Name: MetricLiveGameLength, Kind: Gauge, Value: float64(g.GameLength), Tags: tags})
	}

	evTags := t.add(slices.Clip(tags), TagMatchID, g.MatchID())
	switch {
	case l.Started:
		b.Events = append(b.Events, Event{
			Title:          l.Player.RiotID + " is in a game",
			Text:           fmt.Sprintf("%s entered %s (queue %d) on %s; it will be %s.", l.Player.RiotID, g.GameMode, g.GameQueueConfigID, l.Player.Platform, g.MatchID()),
			Time:           at,
			Tags:           t.add(evTags, TagMoment, MomentLiveGameStart),
			AggregationKey: g.MatchID(),
			AlertType:      AlertInfo,
		})
	case l.Ended:
		// A game known only from a stored marker (it ended while riftbridge
		// was down) has no length.
		length := ""
		if g.GameLength > 0 {
			length = " after about " + clock(g.GameLength*1000)
		}
		b.Events = append(b.Events, Event{
			Title:          l.Player.RiotID + "'s game ended",
			Text:           fmt.Sprintf("%s's game %s ended%s; its match data follows once Riot has processed it.", l.Player.RiotID, g.MatchID(), length),
			Time:           at,
			Tags:           t.add(evTags, TagMoment, MomentLiveGameEnd),
			AggregationKey: g.MatchID(),
			AlertType:      AlertInfo,
		})
	}
	return b
}
