package lctest

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/riftbridge/riftbridge/riot/liveclient"
)

// object is a JSON object as captured: members the server does not touch
// are served byte for byte, "Stolen": "False" included.
type object = map[string]jsontext.Value

type captureDoc struct {
	ActivePlayer object   `json:"activePlayer"`
	AllPlayers   []object `json:"allPlayers"`
	Events       struct {
		Events []object `json:"Events"`
	} `json:"events"`
	GameData object `json:"gameData"`
}

// spectatorError is what a spectator's client says instead of an active player.
const spectatorError = "Spectator mode doesn't currently support this feature"

// Gold, creep score and ward score are not in the events, so they grow
// linearly from these values at 0:00 to the capture's at its gameTime.
const startingGold = 500

// playback is a capture laid out on game time. It does not change after
// New, so requests read it without a lock.
type playback struct {
	start, end float64 // game seconds: when the game loads, GameEnd
	captured   float64 // the capture's gameTime
	gameStats  object  // the capture's gameData

	// activePlayer is nil when there is none (a spectator).
	activePlayer object
	activeName   string
	gold         float64 // the capture's currentGold

	players []player
	kills   []kill       // every ChampionKill of the capture, joined or not
	events  []timedEvent // the events served, GameEnd last
}

type player struct {
	raw   object
	typed liveclient.Player
	final liveclient.Scores
	// base is the kills, deaths and assists before the capture's first
	// event: a spectated capture misses those before the spectator joined.
	base liveclient.Scores
}

// kill is a ChampionKill by player index, -1 for non-players (turrets,
// minions, monsters).
type kill struct {
	time           float64
	killer, victim int
	assisters      []int
}

type timedEvent struct {
	time float64
	raw  object
}

func newPlayback(g Game) (*playback, error) {
	typed, err := liveclient.DecodeAllGameData(g.Capture)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	// The same document again, raw: it decoded once, so it decodes, and
	// into as many players and events.
	var doc captureDoc
	body := bytes.TrimPrefix(g.Capture, []byte("\xEF\xBB\xBF"))
	if err := json.Unmarshal(body, &doc, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	p := &playback{captured: typed.GameData.GameTime, gameStats: doc.GameData, gold: typed.ActivePlayer.CurrentGold}
	evs := typed.Events.Events

	p.start = g.StartAt.Seconds()
	if g.Spectator && len(evs) > 0 {
		p.start = max(p.start, evs[0].EventTime)
	}
	p.end = p.captured
	if len(evs) > 0 {
		p.end = max(p.end, evs[len(evs)-1].EventTime)
	}
	if g.EndAt != 0 {
		p.end = g.EndAt.Seconds()
	}
	if p.end < p.start {
		return nil, fmt.Errorf("the game ends at %.1f s, before it starts at %.1f s", p.end, p.start)
	}

	for i, tp := range typed.AllPlayers {
		raw := doc.AllPlayers[i]
		if g.RiotIDTag != "" && !tp.IsBot && tp.SummonerName != "" {
			tp, raw = withRiotID(tp, raw, g.RiotIDTag)
		}
		p.players = append(p.players, player{raw: raw, typed: tp, final: tp.Scores, base: tp.Scores})
	}
	if !g.Spectator && typed.ActivePlayer.Err == "" {
		p.activePlayer = doc.ActivePlayer
		p.activeName = typed.ActivePlayer.SummonerName
		if g.RiotIDTag != "" && p.activeName != "" {
			p.activeName = p.activeName + "#" + g.RiotIDTag
			p.activePlayer = withRiotIDMembers(p.activePlayer, typed.ActivePlayer.SummonerName, g.RiotIDTag)
		}
	}

	// Players are found in the capture as its events name them, before any
	// Riot ID rewriting.
	for _, e := range evs {
		if e.EventName != liveclient.EventChampionKill {
			continue
		}
		k := kill{time: e.EventTime, killer: index(typed, e.KillerName), victim: index(typed, e.VictimName)}
		for _, a := range e.Assisters {
			k.assisters = append(k.assisters, index(typed, a))
		}
		p.kills = append(p.kills, k)
		p.uncount(k)
	}

	p.events = serveEvents(g, p, evs, doc.Events.Events)
	return p, nil
}

// index returns the index in g.AllPlayers of the player name resolves to,
// or -1.
func index(g *liveclient.AllGameData, name string) int {
	pl, ok := g.PlayerByName(name)
	if !ok {
		return -1
	}
	for i := range g.AllPlayers {
		if &g.AllPlayers[i] == pl {
			return i
		}
	}
	return -1
}

// uncount takes k out of the players' base scores, which start as the
// captured ones.
func (p *playback) uncount(k kill) {
	if k.killer >= 0 {
		p.players[k.killer].base.Kills--
	}
	if k.victim >= 0 {
		p.players[k.victim].base.Deaths--
	}
	for _, a := range k.assisters {
		if a >= 0 {
			p.players[a].base.Assists--
		}
	}
}

// serveEvents lays out the events the API serves: those up to the end and,
// for a spectator, from the join on, led by a GameStart at the join as in
// a spectated capture, renumbered from 0; then GameEnd.
func serveEvents(g Game, p *playback, evs []liveclient.Event, raws []object) []timedEvent {
	var out []timedEvent
	for i, e := range evs {
		if e.EventTime > p.end || g.Spectator && e.EventTime < p.start {
			continue
		}
		if len(out) == 0 && g.Spectator && e.EventName != liveclient.EventGameStart {
			out = append(out, timedEvent{p.start, event(liveclient.EventGameStart, p.start)})
		}
		out = append(out, timedEvent{e.EventTime, raws[i]})
	}
	if len(out) == 0 && g.Spectator {
		out = append(out, timedEvent{p.start, event(liveclient.EventGameStart, p.start)})
	}
	end := event(liveclient.EventGameEnd, p.end)
	end["Result"] = mustValue(cmp.Or(g.Result, "Win"))
	out = append(out, timedEvent{p.end, end})
	for i := range out {
		out[i].raw = with(out[i].raw, "EventID", mustValue(i))
	}
	return out
}

func event(name string, at float64) object {
	return object{"EventName": mustValue(name), "EventTime": mustValue(at)}
}

// withRiotID makes a player look as clients since the Riot ID change show
// it: riotId, riotIdGameName and riotIdTagLine, and no summonerName.
func withRiotID(p liveclient.Player, raw object, tag string) (liveclient.Player, object) {
	name := p.SummonerName
	p.RiotID, p.RiotIDGameName, p.RiotIDTagLine, p.SummonerName = name+"#"+tag, name, tag, ""
	return p, withRiotIDMembers(raw, name, tag)
}

func withRiotIDMembers(raw object, name, tag string) object {
	out := with(raw, "riotId", mustValue(name+"#"+tag))
	out["riotIdGameName"] = mustValue(name)
	out["riotIdTagLine"] = mustValue(tag)
	delete(out, "summonerName")
	return out
}

// with returns a copy of o with name set to v.
func with(o object, name string, v jsontext.Value) object {
	out := make(object, len(o)+1)
	for k, x := range o {
		out[k] = x
	}
	out[name] = v
	return out
}

// mustValue encodes v, which is a string, number or other plain value
// that always encodes.
func mustValue(v any) jsontext.Value {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("lctest: encode %v: %v", v, err))
	}
	return b
}

// progress is how far gt is through the capture, from 0 to 1.
func (p *playback) progress(gt float64) float64 {
	if p.captured <= 0 {
		return 1
	}
	return math.Min(math.Max(gt/p.captured, 0), 1)
}

// scores returns player i's scores at gt: kills, deaths and assists from
// the ChampionKill events so far, creep and ward score growing linearly to
// the captured ones. Creep score moves in steps of 10, as the client
// reports it.
func (p *playback) scores(i int, gt float64) liveclient.Scores {
	pl := p.players[i]
	s := pl.base
	for _, k := range p.kills {
		if k.time > gt {
			continue
		}
		if k.killer == i {
			s.Kills++
		}
		if k.victim == i {
			s.Deaths++
		}
		for _, a := range k.assisters {
			if a == i {
				s.Assists++
			}
		}
	}
	s.Kills, s.Deaths, s.Assists = max(s.Kills, 0), max(s.Deaths, 0), max(s.Assists, 0)
	f := p.progress(gt)
	if f == 1 {
		s.CreepScore, s.WardScore = pl.final.CreepScore, pl.final.WardScore
		return s
	}
	s.CreepScore = int(float64(pl.final.CreepScore)*f/10) * 10
	s.WardScore = pl.final.WardScore * f
	return s
}

// playerObject is player i as the API serves it at gt.
func (p *playback) playerObject(i int, gt float64) object {
	return with(p.players[i].raw, "scores", mustValue(p.scores(i, gt)))
}

// activePlayerObject is the active player at gt, or the spectator's error.
func (p *playback) activePlayerObject(gt float64) object {
	if p.activePlayer == nil {
		return object{"error": mustValue(spectatorError)}
	}
	gold := p.gold
	if f := p.progress(gt); f < 1 {
		gold = startingGold + (p.gold-startingGold)*f
	}
	return with(p.activePlayer, "currentGold", mustValue(gold))
}

// eventsAt are the events that happened by gt, from EventID from on.
func (p *playback) eventsAt(gt float64, from int) []object {
	out := []object{}
	for i, e := range p.events {
		if e.time <= gt && i >= from {
			out = append(out, e.raw)
		}
	}
	return out
}

// findPlayer finds a player as playerscores and its siblings do: by riotId
// on newer clients, by summonerName on older ones, ignoring case.
func (p *playback) findPlayer(byRiotID bool, name string) (int, bool) {
	for i, pl := range p.players {
		id := pl.typed.SummonerName
		if byRiotID {
			id = pl.typed.RiotID
		}
		if id != "" && strings.EqualFold(id, name) {
			return i, true
		}
	}
	return -1, false
}
