package mapper

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riftbridge/riftbridge/riot"
)

// counter sums the event counts of one frame so each series is sent once per
// timestamp: timestamped DogStatsD points are not merged by the Agent.
type counter struct {
	index  map[string]int
	points []Point
}

func (c *counter) add(name string, tags []string, at time.Time) {
	key := name + "|" + strings.Join(tags, ",")
	if i, ok := c.index[key]; ok {
		c.points[i].Value++
		return
	}
	if c.index == nil {
		c.index = map[string]int{}
	}
	c.index[key] = len(c.points)
	c.points = append(c.points, Point{Name: name, Kind: Count, Value: 1, Tags: tags, Time: at})
}

// sorted returns the counts in a stable order for golden files.
func (c *counter) sorted() []Point {
	slices.SortFunc(c.points, func(a, b Point) int {
		if n := strings.Compare(a.Name, b.Name); n != 0 {
			return n
		}
		return slices.Compare(a.Tags, b.Tags)
	})
	return c.points
}

// applyEvents folds the frame's events into the running totals and emits
// per-type counts (stamped at the frame) and notable moments (stamped at the
// event).
func (m *Mapper) applyEvents(f *riot.Frame, tb Timebase, b *Batch) {
	at := tb.At(f.Timestamp)
	var counts counter
	for i := range f.Events {
		e := &f.Events[i]
		counts.add(MetricEventCount, m.tags.add(slices.Clip(m.match), TagEventType, e.Type), at)
		switch e.Type {
		case riot.EventChampionKill:
			m.championKill(e, &counts, at)
		case riot.EventChampionSpecialKill:
			m.specialKill(f, e, tb, b)
		case riot.EventEliteMonsterKill:
			m.eliteMonsterKill(e, &counts, tb, b, at)
		case riot.EventBuildingKill:
			m.buildingKill(e, &counts, at)
		case riot.EventTurretPlateDestroyed:
			if t := m.teams[enemyOf(e.TeamID)]; t != nil { // teamId is the side that lost the plate
				t.plates++
			}
		case riot.EventWardPlaced:
			team := m.teamOf(e.CreatorID)
			if t := m.teams[team]; t != nil {
				t.wardsPlaced++
			}
			counts.add(MetricEventWardPlaced, m.withTeam(team, TagWardType, e.WardType), at)
		case riot.EventWardKill:
			if t := m.teams[m.teamOf(e.KillerID)]; t != nil {
				t.wardsKilled++
			}
		case riot.EventDragonSoulGiven:
			m.moment(b, tb, e, MomentDragonSoul, e.TeamID, AlertInfo,
				fmt.Sprintf("%s takes the %s dragon soul", sideTitle(e.TeamID), orUnknown(e.Name)), "")
		case riot.EventGameEnd:
			m.moment(b, tb, e, MomentGameEnd, e.WinningTeam, AlertSuccess,
				fmt.Sprintf("%s wins %s", sideTitle(e.WinningTeam), m.info.MatchID),
				fmt.Sprintf("Game length %s.", clock(e.Timestamp)))
		}
	}
	b.Points = append(b.Points, counts.sorted()...)
}

// withTeam builds event-count tags: the match tags, the team, then key:value pairs.
func (m *Mapper) withTeam(team int, kv ...string) []string {
	tags := m.tags.add(slices.Clip(m.match), TagTeam, teamName(team))
	for i := 0; i+1 < len(kv); i += 2 {
		tags = m.tags.add(tags, kv[i], kv[i+1])
	}
	return tags
}

func (m *Mapper) championKill(e *riot.Event, counts *counter, at time.Time) {
	victimTeam := m.teamOf(e.VictimID)
	m.kdaOf(e.VictimID).deaths++
	if t := m.teams[victimTeam]; t != nil {
		t.deaths++
	}
	// killerId 0 is an execution by minions or a turret: nobody gets the kill.
	killerTeam := 0
	if e.KillerID != 0 {
		killerTeam = m.teamOf(e.KillerID)
		m.kdaOf(e.KillerID).kills++
		if t := m.teams[killerTeam]; t != nil {
			t.kills++
		}
		seen := map[int]bool{}
		for _, id := range e.AssistingParticipantIDs {
			if !seen[id] && id != e.KillerID {
				seen[id] = true
				m.kdaOf(id).assists++
			}
		}
	}
	counts.add(MetricEventChampionKill, m.withTeam(killerTeam,
		TagKillerChampion, m.info.Participants[e.KillerID].Champion,
		TagVictimChampion, m.info.Participants[e.VictimID].Champion), at)
}

func (m *Mapper) eliteMonsterKill(e *riot.Event, counts *counter, tb Timebase, b *Batch, at time.Time) {
	team := e.KillerTeamID // 300 (no team) falls through every lookup
	t := m.teams[team]
	subtype := strings.TrimSuffix(e.MonsterSubType, "_DRAGON")
	if t != nil {
		switch e.MonsterType {
		case "DRAGON":
			t.dragons++
			if subtype != "" {
				t.dragonsByType[TagValue(subtype)]++
			}
		case "BARON_NASHOR":
			t.barons++
		case "RIFTHERALD":
			t.heralds++
		case "HORDE":
			t.voidgrubs++
		case "ATAKHAN":
			t.atakhans++
		}
	}
	counts.add(MetricEventEliteMonsterKill, m.withTeam(team, TagMonsterType, e.MonsterType, TagMonsterSubtype, e.MonsterSubType), at)

	killer := m.describe(e.KillerID)
	switch {
	case e.MonsterType == "BARON_NASHOR":
		m.moment(b, tb, e, MomentBaron, team, AlertInfo, sideTitle(team)+" slays Baron Nashor", "Last hit by "+killer+".")
	case e.MonsterSubType == "ELDER_DRAGON":
		m.moment(b, tb, e, MomentElder, team, AlertInfo, sideTitle(team)+" slays the Elder Dragon", "Last hit by "+killer+".")
	case e.MonsterType == "ATAKHAN":
		m.moment(b, tb, e, MomentAtakhan, team, AlertInfo, sideTitle(team)+" slays Atakhan", "Last hit by "+killer+".")
	}
}

func (m *Mapper) buildingKill(e *riot.Event, counts *counter, at time.Time) {
	// teamId names the side that lost the structure; the destroyer is the other.
	destroyer := enemyOf(e.TeamID)
	if t := m.teams[destroyer]; t != nil {
		switch e.BuildingType {
		case "TOWER_BUILDING":
			t.towers++
		case "INHIBITOR_BUILDING":
			t.inhibitors++
		}
	}
	counts.add(MetricEventBuildingKill, m.withTeam(destroyer,
		TagBuildingType, e.BuildingType, TagLane, e.LaneType, TagTowerType, e.TowerType), at)
}

// specialKill turns first bloods, multikills and aces into moments. It never
// counts a kill: CHAMPION_SPECIAL_KILL repeats a CHAMPION_KILL.
func (m *Mapper) specialKill(f *riot.Frame, e *riot.Event, tb Timebase, b *Batch) {
	team := m.teamOf(e.KillerID)
	killer := m.describe(e.KillerID)
	switch e.KillType {
	case "KILL_FIRST_BLOOD":
		if m.firstBloodSeen {
			return
		}
		m.firstBloodSeen = true
		text := killer + " drew first blood"
		if victim := victimOf(f, e); victim != 0 {
			text += " on " + m.describe(victim)
		}
		m.moment(b, tb, e, MomentFirstBlood, team, AlertInfo, "First blood: "+killer, text+" at "+clock(e.Timestamp)+".")
	case "KILL_MULTI":
		if e.MultiKillLength == nil {
			return
		}
		name := multiKillName(*e.MultiKillLength)
		m.moment(b, tb, e, MomentMultiKill, team, AlertInfo, name+": "+killer, fmt.Sprintf("%s scored a %s at %s.", killer, strings.ToLower(name), clock(e.Timestamp)))
	case "KILL_ACE":
		m.moment(b, tb, e, MomentAce, team, AlertInfo, "Ace by "+strings.ToLower(sideTitle(team)), killer+" finished the ace at "+clock(e.Timestamp)+".")
	}
}

// victimOf finds the CHAMPION_KILL a special kill repeats: same time, same killer.
func victimOf(f *riot.Frame, special *riot.Event) int {
	for i := range f.Events {
		e := &f.Events[i]
		if e.Type == riot.EventChampionKill && e.Timestamp == special.Timestamp && e.KillerID == special.KillerID {
			return e.VictimID
		}
	}
	return 0
}

func (m *Mapper) moment(b *Batch, tb Timebase, e *riot.Event, moment string, team int, alert AlertType, title, text string) {
	tags := m.withTeam(team, TagMoment, moment)
	if text == "" {
		text = title + "."
	}
	b.Events = append(b.Events, Event{
		Title:          title,
		Text:           text,
		Time:           tb.At(e.Timestamp),
		Tags:           tags,
		AggregationKey: m.info.MatchID,
		AlertType:      alert,
	})
}

// describe names a participant for event text: "Kaisa (red, Viper#G170)".
func (m *Mapper) describe(id int) string {
	if id == 0 {
		return "minions or a turret"
	}
	p, ok := m.info.Participants[id]
	name := p.Champion
	if !ok || name == "" {
		name = fmt.Sprintf("participant %d", id)
	}
	var details []string
	if side := teamName(p.Team); side != "" {
		details = append(details, side)
	}
	if p.RiotID != "" {
		details = append(details, p.RiotID)
	}
	if len(details) == 0 {
		return name
	}
	return name + " (" + strings.Join(details, ", ") + ")"
}

func sideTitle(team int) string {
	switch team {
	case TeamBlue:
		return "Blue"
	case TeamRed:
		return "Red"
	case 0:
		return "A team"
	}
	return fmt.Sprintf("Team %d", team) // Arena subteams and other modes
}

func multiKillName(n int) string {
	switch n {
	case 2:
		return "Double kill"
	case 3:
		return "Triple kill"
	case 4:
		return "Quadra kill"
	case 5:
		return "Penta kill"
	}
	return fmt.Sprintf("%d-kill streak", n)
}

// clock formats a game offset as m:ss.
func clock(gameMillis int64) string {
	s := gameMillis / 1000
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
