package mapper

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/riftbridge/riftbridge/riot/liveclient"
)

// liveCompleteBefore is how far into the game, in game seconds, a GameStart
// may lie for the event list to hold the whole game: no structure or epic
// monster can fall in the first minute. A spectator's list starts when it
// joined (GameStart at 480.6 s in a capture); a player's at about 0.03 s.
const liveCompleteBefore = 60

// LiveGame maps a game followed through the Live Client Data API, poll after
// poll, into the timeline's metric and moment names, so that a dashboard
// built on replayed matches shows a live game unchanged. Scores (kills,
// deaths, assists, creep score) come from every poll's snapshot; team
// objectives from the events, folded in once each, in EventID order.
//
// Event-derived team totals (towers, inhibitors, dragons, barons, heralds,
// voidgrubs, atakhans) and dragon_soul are only emitted while the event
// history is complete: from a GameStart in the first minute, with no EventID
// skipped. A spectator who joined mid-game sees events only since the join,
// so its totals would be short; they are left out rather than understated.
//
// A LiveGame does no I/O and reads no clock. It is not safe for concurrent
// use.
type LiveGame struct {
	tags tagger

	// The game's tags, rebuilt when a poll's match id or game mode changes.
	haveTags          bool
	matchID, gameMode string
	match             []string
	teamTags          map[int][]string
	playerTags        map[string][]string

	statMetrics []string // participant.champion.<liveStatNames()>

	pending []liveclient.Event // handed to Resume, folded at the next Poll

	next      int     // the first EventID not folded yet
	folded    bool    // some event has been folded
	started   bool    // a GameStart has been folded,
	startTime float64 // at this game time
	complete  bool    // every event since the game's start has been folded

	teams    map[int]*liveTotals
	lastKill liveKill // the last ChampionKill, for FirstBlood's victim
	// One-per-game moments already announced (or folded by Resume).
	firstBlood, soul, ended bool
}

// liveTotals are a team's running totals from events.
type liveTotals struct {
	towers, inhibitors, dragons, barons, heralds, voidgrubs, atakhans int
	elemental                                                         int // dragons but the elder, toward the soul
	dragonsByType                                                     map[string]int
}

type liveKill struct {
	killer, victim string
	time           float64
}

// NewLiveGame prepares the mapping of one followed game.
func NewLiveGame(opts Options) *LiveGame {
	g := &LiveGame{
		tags:  newTagger(opts.DropTags),
		teams: map[int]*liveTotals{TeamBlue: {dragonsByType: map[string]int{}}, TeamRed: {dragonsByType: map[string]int{}}},
	}
	for _, n := range liveStatNames() {
		g.statMetrics = append(g.statMetrics, participantChampionPrefix+n)
	}
	return g
}

// LivePoll is one poll of a followed game.
type LivePoll struct {
	// Game is the allgamedata snapshot. A poll without one maps nothing and
	// folds none of its events, so they can be handed again.
	Game *liveclient.AllGameData
	// Events are the events new since the previous poll, in EventID order
	// (eventdata?eventID=N); nil when none. Only these are counted: Game's
	// own event list is not read. An event whose EventID was already folded
	// is ignored.
	Events []liveclient.Event
	// MatchID is the Riot match id ("KR_7014499581") when known, else "".
	// It tags the points and keys the moments; its prefix gives the platform
	// tag. Pass the same one on every poll of a game: tags that change
	// start new series.
	MatchID string
	// At is when the snapshot was taken. It stamps the points and event
	// counts, and moments at At minus how long before the snapshot's game
	// clock they happened. Zero leaves everything unstamped: the Agent and
	// Datadog stamp them on arrival.
	At time.Time
}

// Resume folds events an earlier run already delivered (a restart
// mid-game) into the running totals without emitting anything, so that no
// count or moment is sent twice and team totals carry on. The events are
// folded at the next Poll, before its own, with that poll's roster (the
// players an event names are resolved in its snapshot). Call it before the
// first Poll; events already folded are ignored.
func (g *LiveGame) Resume(events []liveclient.Event) {
	g.pending = append(g.pending, events...)
}

// Poll maps one poll: a count per new event (lol.event.count and the
// timeline's event.* counts), moments for the notable ones, then every
// player's gauges, the active player's gold and champion stats, the team
// gauges and the game clock.
func (g *LiveGame) Poll(p LivePoll) Batch {
	if p.Game == nil {
		return Batch{}
	}
	g.setTags(p.MatchID, p.Game.GameData.GameMode)
	r := newLiveRoster(p.Game)
	for i := range g.pending {
		g.fold(r, &g.pending[i], nil)
	}
	g.pending = nil

	b := Batch{Points: make([]Point, 0, len(p.Game.AllPlayers)*(8+len(g.statMetrics))+32)}
	em := &liveEmit{b: &b, at: p.At, clock: p.Game.GameData.GameTime}
	for i := range p.Events {
		g.fold(r, &p.Events[i], em)
	}
	b.Points = append(b.Points, em.counts.sorted()...)
	g.playerPoints(r, p.At, &b)
	g.teamPoints(r, p.At, &b)
	b.Points = append(b.Points, Point{Name: MetricMatchGameTime, Kind: Gauge, Value: finite(p.Game.GameData.GameTime), Tags: g.match, Time: p.At})
	return b
}

// liveEmit is where a poll's new events go; nil while resuming.
type liveEmit struct {
	b      *Batch
	counts counter
	at     time.Time
	clock  float64 // the snapshot's game clock
}

// eventTime stamps an event of game time t: At minus how long before the
// snapshot it happened, never after At; zero when At is.
func (em *liveEmit) eventTime(t float64) time.Time {
	if em.at.IsZero() {
		return time.Time{}
	}
	lag := em.clock - t
	if !(lag > 0) { // NaN, or an event the snapshot has not caught up with
		return em.at
	}
	return em.at.Add(-time.Duration(math.Min(lag, 48*3600) * float64(time.Second)))
}

// setTags builds the game's tags: match_id and the platform its prefix
// names, as Describe does, and game_mode. The Live Client knows no queue or
// patch.
func (g *LiveGame) setTags(matchID, gameMode string) {
	if g.haveTags && matchID == g.matchID && gameMode == g.gameMode {
		return
	}
	g.haveTags, g.matchID, g.gameMode = true, matchID, gameMode
	var platform string
	if prefix, _, ok := strings.Cut(matchID, "_"); ok {
		platform = prefix
	}
	g.match = g.tags.add(nil, TagMatchID, matchID)
	g.match = g.tags.add(g.match, TagPlatform, platform)
	g.match = g.tags.add(g.match, TagGameMode, gameMode)
	g.match = slices.Clip(g.match)
	g.teamTags = map[int][]string{}
	for _, team := range []int{TeamBlue, TeamRed} {
		g.teamTags[team] = slices.Clip(g.tags.add(slices.Clip(g.match), TagTeam, teamName(team)))
	}
	g.playerTags = map[string][]string{}
}

// withTeam builds event tags: the game's tags, the team, then key:value pairs.
func (g *LiveGame) withTeam(team int, kv ...string) []string {
	tags := g.tags.add(slices.Clip(g.match), TagTeam, teamName(team))
	for i := 0; i+1 < len(kv); i += 2 {
		tags = g.tags.add(tags, kv[i], kv[i+1])
	}
	return tags
}

// liveRoster is what one snapshot tells about the players.
type liveRoster struct {
	game *liveclient.AllGameData
	// sides is whether every player is blue or red: not in Arena, whose
	// players fight in subteams, as Describe has it for match-v5.
	sides  bool
	active *liveclient.Player // nil for a spectator or when unresolved
}

func newLiveRoster(g *liveclient.AllGameData) *liveRoster {
	r := &liveRoster{game: g}
	r.sides = len(g.AllPlayers) > 0 && len(g.AllPlayers) <= 10 && g.GameData.GameMode != "CHERRY"
	for i := range g.AllPlayers {
		if liveclient.Team(g.AllPlayers[i].Team) == "" {
			r.sides = false
		}
	}
	if a := &g.ActivePlayer; a.Err == "" && a.ID() != "" {
		if p, ok := g.PlayerByName(a.ID()); ok {
			r.active = p
		}
	}
	return r
}

// sideOf converts liveclient.Team's "blue" and "red" to TeamBlue and TeamRed.
func sideOf(team string) int {
	switch team {
	case "blue":
		return TeamBlue
	case "red":
		return TeamRed
	}
	return 0
}

// playerSide is a player's side, 0 when sides are unknown.
func (r *liveRoster) playerSide(p *liveclient.Player) int {
	if !r.sides {
		return 0
	}
	return sideOf(liveclient.Team(p.Team))
}

// side is the side of whatever an event names (a player, a minion, a
// structure), 0 when unknown.
func (r *liveRoster) side(name string) int {
	if !r.sides {
		return 0
	}
	return sideOf(r.game.TeamOf(name))
}

// describe names what an event names for event text, as the timeline
// does: "MissFortune (red, kelnex)".
func (r *liveRoster) describe(name string) string {
	p, ok := r.game.PlayerByName(name)
	if !ok {
		if r.game.TeamOf(name) != "" {
			return "minions or a turret"
		}
		return orUnknown(name)
	}
	champion := orUnknown(liveChampion(p))
	var details []string
	if side := teamName(r.playerSide(p)); side != "" {
		details = append(details, side)
	}
	if id := p.ID(); id != "" {
		details = append(details, id)
	}
	if len(details) == 0 {
		return champion
	}
	return champion + " (" + strings.Join(details, ", ") + ")"
}

// championDisplayPrefix starts every rawChampionName.
const championDisplayPrefix = "game_character_displayname_"

// liveChampion is the champion's name as match-v5's championName spells
// it, so the champion tag is the timeline's: rawChampionName
// "game_character_displayname_MissFortune" gives "MissFortune" (championName
// is the display name, "Miss Fortune", and is localised). Without a raw
// name, the display name without spaces and punctuation, which TagValue
// then lowercases as match-v5's ("Kai'Sa" → kaisa, "Dr. Mundo" → drmundo),
// except for the three champions whose names differ.
func liveChampion(p *liveclient.Player) string {
	if name, ok := strings.CutPrefix(p.RawChampionName, championDisplayPrefix); ok && name != "" {
		return name
	}
	switch p.ChampionName {
	case "Wukong":
		return "MonkeyKing"
	case "Nunu & Willump":
		return "Nunu"
	case "Renata Glasc":
		return "Renata"
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\'' || r == '.' || r == '&' {
			return -1
		}
		return r
	}, p.ChampionName)
}

// livePosition is the position tag's value: the client sends match-v5's
// teamPosition words, or nothing outside ranked-like queues.
func livePosition(p *liveclient.Player) string {
	if strings.EqualFold(p.Position, "NONE") {
		return ""
	}
	return p.Position
}

// admit reports whether e is to be folded: not one already folded. It
// keeps track of whether the history is complete, which only a GameStart
// in the game's first minute, as the first event, begins, and a skipped
// EventID ends. A GameStart with an EventID already folded but another time
// means the client's event list started over (a reconnect): its ids did
// too, and the events of the gap are missing.
func (g *LiveGame) admit(e *liveclient.Event) bool {
	switch {
	case e.EventID < g.next:
		if e.EventName != liveclient.EventGameStart || (g.started && math.Abs(e.EventTime-g.startTime) < 1) {
			return false
		}
		g.complete = false
	case e.EventID > g.next:
		g.complete = false
	}
	if e.EventName == liveclient.EventGameStart {
		if !g.folded && e.EventID == 0 && e.EventTime >= 0 && e.EventTime <= liveCompleteBefore {
			g.complete = true
		}
		g.started, g.startTime = true, e.EventTime
	}
	g.folded = true
	g.next = e.EventID + 1
	return true
}

// fold adds one event to the running totals and, unless resuming (em nil),
// counts it and turns it into a moment when it is one.
func (g *LiveGame) fold(r *liveRoster, e *liveclient.Event, em *liveEmit) {
	if !g.admit(e) {
		return
	}
	count := func(name string, tags []string) {
		if em != nil {
			em.counts.add(name, tags, em.at)
		}
	}
	count(MetricEventCount, g.tags.add(slices.Clip(g.match), TagEventType, liveclient.SnakeCase(e.EventName)))

	switch e.EventName {
	case liveclient.EventChampionKill:
		team, killerChampion, victimChampion := 0, "", ""
		// A kill by minions, a turret or a monster is nobody's, as the
		// timeline's killerId 0.
		if p, ok := r.game.PlayerByName(e.KillerName); ok {
			team, killerChampion = r.playerSide(p), liveChampion(p)
		}
		if p, ok := r.game.PlayerByName(e.VictimName); ok {
			victimChampion = liveChampion(p)
		}
		g.lastKill = liveKill{killer: e.KillerName, victim: e.VictimName, time: e.EventTime}
		count(MetricEventChampionKill, g.withTeam(team, TagKillerChampion, killerChampion, TagVictimChampion, victimChampion))

	case liveclient.EventFirstBlood:
		if g.firstBlood {
			return
		}
		g.firstBlood = true
		killer := r.describe(e.Recipient)
		text := killer + " drew first blood"
		if k := g.lastKill; k.victim != "" && strings.EqualFold(k.killer, e.Recipient) && math.Abs(k.time-e.EventTime) < 0.01 {
			text += " on " + r.describe(k.victim)
		}
		g.moment(em, e, MomentFirstBlood, r.side(e.Recipient), AlertInfo, "First blood: "+killer, text+" at "+liveClock(e.EventTime)+".")

	case liveclient.EventMultikill:
		if e.KillStreak < 2 {
			return
		}
		killer, name := r.describe(e.KillerName), multiKillName(e.KillStreak)
		g.moment(em, e, MomentMultiKill, r.side(e.KillerName), AlertInfo, name+": "+killer,
			fmt.Sprintf("%s scored a %s at %s.", killer, strings.ToLower(name), liveClock(e.EventTime)))

	case liveclient.EventAce:
		team := 0
		if r.sides {
			team = sideOf(liveclient.Team(e.AcingTeam))
		}
		if team == 0 {
			team = r.side(e.Acer)
		}
		g.moment(em, e, MomentAce, team, AlertInfo, "Ace by "+strings.ToLower(sideTitle(team)),
			r.describe(e.Acer)+" finished the ace at "+liveClock(e.EventTime)+".")

	case liveclient.EventTurretKilled, liveclient.EventInhibKilled:
		name := e.TurretKilled
		if e.EventName == liveclient.EventInhibKilled {
			name = e.InhibKilled
		}
		s, ok := liveclient.ParseStructure(name, r.game.GameData.MapNumber)
		if !ok {
			return
		}
		// The structure names its owner; the destroyer is the other side,
		// whoever (or whichever minion) dealt the last hit.
		destroyer := enemyOf(sideOf(s.Team))
		if t := g.teams[destroyer]; t != nil {
			if s.Building == "TOWER_BUILDING" {
				t.towers++
			} else {
				t.inhibitors++
			}
		}
		count(MetricEventBuildingKill, g.withTeam(destroyer, TagBuildingType, s.Building, TagLane, s.Lane, TagTowerType, s.Tower))

	case liveclient.EventDragonKill:
		team := r.side(e.KillerName)
		elder := strings.EqualFold(e.DragonType, "Elder")
		t := g.teams[team]
		if t != nil {
			t.dragons++
			if e.DragonType != "" {
				t.dragonsByType[TagValue(e.DragonType)]++
			}
			if !elder {
				t.elemental++
			}
		}
		var subtype string
		if e.DragonType != "" {
			subtype = strings.ToUpper(e.DragonType) + "_DRAGON"
		}
		count(MetricEventEliteMonsterKill, g.withTeam(team, TagMonsterType, "DRAGON", TagMonsterSubtype, subtype))
		switch {
		case elder:
			g.moment(em, e, MomentElder, team, AlertInfo, sideTitle(team)+" slays the Elder Dragon", "Last hit by "+r.describe(e.KillerName)+".")
		case t != nil && t.elemental == 4 && g.complete && !g.soul:
			// A team's fourth elemental dragon claims the soul; the rift took
			// the soul's element at the third of the game, so this dragon's
			// type names it.
			g.soul = true
			g.moment(em, e, MomentDragonSoul, team, AlertInfo, fmt.Sprintf("%s takes the %s dragon soul", sideTitle(team), soulName(e.DragonType)), "")
		}

	case liveclient.EventHeraldKill:
		team := r.side(e.KillerName)
		if t := g.teams[team]; t != nil {
			t.heralds++
		}
		count(MetricEventEliteMonsterKill, g.withTeam(team, TagMonsterType, "RIFTHERALD"))

	case liveclient.EventHordeKill:
		team := r.side(e.KillerName)
		if t := g.teams[team]; t != nil {
			t.voidgrubs++
		}
		count(MetricEventEliteMonsterKill, g.withTeam(team, TagMonsterType, "HORDE"))

	case liveclient.EventBaronKill:
		team := r.side(e.KillerName)
		if t := g.teams[team]; t != nil {
			t.barons++
		}
		count(MetricEventEliteMonsterKill, g.withTeam(team, TagMonsterType, "BARON_NASHOR"))
		g.moment(em, e, MomentBaron, team, AlertInfo, sideTitle(team)+" slays Baron Nashor", "Last hit by "+r.describe(e.KillerName)+".")

	case liveclient.EventAtakhanKill:
		team := r.side(e.KillerName)
		if t := g.teams[team]; t != nil {
			t.atakhans++
		}
		count(MetricEventEliteMonsterKill, g.withTeam(team, TagMonsterType, "ATAKHAN"))
		g.moment(em, e, MomentAtakhan, team, AlertInfo, sideTitle(team)+" slays Atakhan", "Last hit by "+r.describe(e.KillerName)+".")

	case liveclient.EventGameEnd:
		if g.ended {
			return
		}
		g.ended = true
		// Result is the active player's: a spectator's game end names no
		// winner.
		winner := 0
		if r.active != nil {
			mine := r.playerSide(r.active)
			switch strings.ToLower(e.Result) {
			case "win":
				winner = mine
			case "lose":
				winner = enemyOf(mine)
			}
		}
		var title string
		switch {
		case winner != 0:
			title = strings.TrimSpace(sideTitle(winner) + " wins " + g.matchID)
		case g.matchID != "":
			title = g.matchID + " ended"
		default:
			title = "The game ended"
		}
		g.moment(em, e, MomentGameEnd, winner, AlertSuccess, title, "Game length "+liveClock(e.EventTime)+".")
	}
}

// moment sends a notable moment shaped as the timeline's, unless resuming.
func (g *LiveGame) moment(em *liveEmit, e *liveclient.Event, moment string, team int, alert AlertType, title, text string) {
	if em == nil {
		return
	}
	if text == "" {
		text = title + "."
	}
	em.b.Events = append(em.b.Events, Event{
		Title:          title,
		Text:           text,
		Time:           em.eventTime(e.EventTime),
		Tags:           g.withTeam(team, TagMoment, moment),
		AggregationKey: g.matchID,
		AlertType:      alert,
	})
}

// soulName is the soul a dragon type's element gives, as match-v5's
// DRAGON_SOUL_GIVEN names it.
func soulName(dragonType string) string {
	switch strings.ToLower(dragonType) {
	case "fire":
		return "Infernal"
	case "earth":
		return "Mountain"
	case "water":
		return "Ocean"
	case "air":
		return "Cloud"
	}
	return orUnknown(dragonType) // Hextech, Chemtech
}

// liveClock formats game seconds as m:ss.
func liveClock(seconds float64) string {
	if !(seconds > 0) {
		return clock(0)
	}
	return clock(int64(math.Min(seconds, 1e9) * 1000))
}

// finite turns what no gauge can carry into 0.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// playerTagsFor returns (and caches) a player's tags: there is no
// participant id in the Live Client, and none is made up; champion and team
// tell the series apart.
func (g *LiveGame) playerTagsFor(r *liveRoster, p *liveclient.Player) []string {
	team, champion, position := teamName(r.playerSide(p)), liveChampion(p), livePosition(p)
	key := team + "\x1f" + champion + "\x1f" + position
	if tags, ok := g.playerTags[key]; ok {
		return tags
	}
	tags := slices.Clip(g.match)
	tags = g.tags.add(tags, TagTeam, team)
	tags = g.tags.add(tags, TagChampion, champion)
	tags = g.tags.add(tags, TagPosition, position)
	g.playerTags[key] = slices.Clip(tags)
	return g.playerTags[key]
}

// playerPoints emits every player's gauges, bots included, in a stable
// order (blue, then red, then by champion), and the active player's gold
// and champion stats.
func (g *LiveGame) playerPoints(r *liveRoster, at time.Time, b *Batch) {
	players := make([]*liveclient.Player, 0, len(r.game.AllPlayers))
	for i := range r.game.AllPlayers {
		players = append(players, &r.game.AllPlayers[i])
	}
	slices.SortStableFunc(players, func(x, y *liveclient.Player) int {
		if n := r.playerSide(x) - r.playerSide(y); n != 0 {
			return n
		}
		if n := strings.Compare(TagValue(liveChampion(x)), TagValue(liveChampion(y))); n != 0 {
			return n
		}
		return strings.Compare(x.ID(), y.ID())
	})
	for _, p := range players {
		tags := g.playerTagsFor(r, p)
		gauge := func(name string, v float64) {
			b.Points = append(b.Points, Point{Name: name, Kind: Gauge, Value: finite(v), Tags: tags, Time: at})
		}
		respawn, dead := 0.0, 0.0
		if p.IsDead {
			respawn, dead = math.Max(p.RespawnTimer, 0), 1
		}
		gauge(MetricParticipantLevel, float64(p.Level))
		gauge(MetricParticipantCS, float64(p.Scores.CreepScore))
		gauge(MetricParticipantKills, float64(p.Scores.Kills))
		gauge(MetricParticipantDeaths, float64(p.Scores.Deaths))
		gauge(MetricParticipantAssists, float64(p.Scores.Assists))
		gauge(MetricParticipantWardScore, p.Scores.WardScore)
		gauge(MetricParticipantRespawnTimer, respawn)
		gauge(MetricParticipantDead, dead)
		gauge(MetricParticipantItems, float64(inventoryItems(p.Items)))
		if p != r.active {
			continue
		}
		a := &r.game.ActivePlayer
		gauge(MetricParticipantGoldCurrent, a.CurrentGold)
		for i, v := range liveStatValues(&a.ChampionStats) {
			if !math.IsNaN(v) {
				gauge(g.statMetrics[i], v)
			}
		}
	}
}

// inventoryItems counts the inventory slots (0–5) filled; the trinket's
// slot 6 is not counted, and a stack (two control wards) counts once.
func inventoryItems(items []liveclient.Item) int {
	n := 0
	for _, it := range items {
		if it.ItemID != 0 && it.Slot >= 0 && it.Slot <= 5 {
			n++
		}
	}
	return n
}

// teamPoints emits the team gauges when every player's side is known and
// both sides have players. Kills, deaths and creep score are summed from
// the scores, complete even for a spectator; objectives come from the
// events and are left out unless the history is complete.
func (g *LiveGame) teamPoints(r *liveRoster, at time.Time, b *Batch) {
	if !r.sides {
		return
	}
	type sums struct{ kills, deaths, cs, members int }
	perTeam := map[int]*sums{TeamBlue: {}, TeamRed: {}}
	for i := range r.game.AllPlayers {
		p := &r.game.AllPlayers[i]
		s := perTeam[r.playerSide(p)]
		s.kills += p.Scores.Kills
		s.deaths += p.Scores.Deaths
		s.cs += p.Scores.CreepScore
		s.members++
	}
	if perTeam[TeamBlue].members == 0 || perTeam[TeamRed].members == 0 {
		return
	}
	for _, team := range []int{TeamBlue, TeamRed} {
		s, t, tags := perTeam[team], g.teams[team], g.teamTags[team]
		gauge := func(name string, v int) {
			b.Points = append(b.Points, Point{Name: name, Kind: Gauge, Value: float64(v), Tags: tags, Time: at})
		}
		gauge(MetricTeamCS, s.cs)
		gauge(MetricTeamKills, s.kills)
		gauge(MetricTeamDeaths, s.deaths)
		if !g.complete {
			continue
		}
		gauge(MetricTeamTowers, t.towers)
		gauge(MetricTeamInhibitors, t.inhibitors)
		gauge(MetricTeamDragons, t.dragons)
		gauge(MetricTeamBarons, t.barons)
		gauge(MetricTeamHeralds, t.heralds)
		gauge(MetricTeamVoidgrubs, t.voidgrubs)
		gauge(MetricTeamAtakhans, t.atakhans)
		kinds := make([]string, 0, len(t.dragonsByType))
		for kind := range t.dragonsByType {
			kinds = append(kinds, kind)
		}
		slices.Sort(kinds)
		for _, kind := range kinds {
			b.Points = append(b.Points, Point{Name: MetricTeamDragonsByType, Kind: Gauge, Value: float64(t.dragonsByType[kind]),
				Tags: g.tags.add(slices.Clip(tags), TagDragonType, kind), Time: at})
		}
	}
}

// liveStatNames are the ChampionStatNames whose meaning the Live Client's
// championStats share, in liveStatValues' order. Left out, because the
// units differ or cannot be told apart: attack_speed (the timeline's is a
// percentage of the champion's base attack speed, 100 at level 1; the
// client's attacks per second), health_regen and power_regen (the client's
// are per second; the timeline's are about twice the per-5-second base
// figures at level 1, no documented unit), cc_reduction, lifesteal,
// omnivamp, physical_vamp and spell_vamp (percentages in the timeline; the
// client's tenacity, lifeSteal and vamps are 0 in every capture, so
// percent or fraction is unknown) and cooldown_reduction (only pre-10.23
// clients send it).
func liveStatNames() []string {
	return []string{
		"ability_haste", "ability_power", "armor", "armor_pen", "armor_pen_percent",
		"attack_damage", "bonus_armor_pen_percent", "bonus_magic_pen_percent",
		"health", "health_max", "magic_pen", "magic_pen_percent", "magic_resist",
		"movement_speed", "power", "power_max",
	}
}

// liveStatValues lists the active player's stats in liveStatNames' order;
// NaN for one the client did not report.
func liveStatValues(s *liveclient.ChampionStats) [16]float64 {
	return [16]float64{
		s.AbilityHaste, s.AbilityPower, s.Armor, s.ArmorPenetrationFlat, penetrationPercent(s.ArmorPenetrationPercent),
		s.AttackDamage, penetrationPercent(s.BonusArmorPenetrationPercent), penetrationPercent(s.BonusMagicPenetrationPercent),
		s.CurrentHealth, s.MaxHealth, s.MagicPenetrationFlat, penetrationPercent(s.MagicPenetrationPercent), s.MagicResist,
		s.MoveSpeed, s.ResourceValue, s.ResourceMax,
	}
}

// penetrationPercent converts the client's penetration multiplier (the
// share of the target's resistance that still counts: 1.0 is none, 0.6
// Void Staff's 40 %) to the timeline's percentage of resistance ignored
// (Cryptbloom's 30 % is magicPenPercent 30). The client's float32 noise is
// rounded off at 4 decimals (0.6000000238 gives 40, not 39.9999976). A
// multiplier of 0 or less, full penetration, only comes from a field the
// client left out: NaN, not emitted.
func penetrationPercent(multiplier float64) float64 {
	if !(multiplier > 0) {
		return math.NaN()
	}
	return math.Round((1-multiplier)*100*1e4) / 1e4
}
