package riottest

import (
	"crypto/sha512"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// platformRegion maps each platform routing value to the regional cluster
// that serves its matches (OCE, SG, TW and VN are on sea).
var platformRegion = map[string]string{
	"na1": "americas", "br1": "americas", "la1": "americas", "la2": "americas",
	"euw1": "europe", "eun1": "europe", "tr1": "europe", "ru": "europe", "me1": "europe",
	"kr": "asia", "jp1": "asia",
	"oc1": "sea", "sg2": "sea", "tw2": "sea", "vn2": "sea",
}

func isPlatform(route string) bool { _, ok := platformRegion[route]; return ok }

func isRegion(route string) bool {
	switch route {
	case "americas", "asia", "europe", "sea":
		return true
	}
	return false
}

// playersPerGame is the size of a Summoner's Rift game, and of the sample.
const playersPerGame = 10

// firstGameID keeps generated game ids in the range of real KR ids.
const firstGameID = 7100000000

// GameSpec describes a game to add to the scenario.
type GameSpec struct {
	// Platform is the platform routing value the game is played on ("kr").
	Platform string
	// Players are PUUIDs returned by AddPlayer, placed in participant order
	// (the first five on team 100); synthetic players fill up to ten.
	Players []string
	// Start is when the game starts; the zero time means the server's now.
	Start time.Time
	// Duration is how long the game is live; 0 means the sample's 28m59.152s.
	Duration time.Duration
	// ProcessingDelay is how long after the end match-v5 keeps answering 404.
	ProcessingDelay time.Duration
	// QueueID is the game's queue; 0 means the sample's 420 (ranked solo).
	QueueID int
}

type player struct {
	puuid, gameName, tagLine, platform string
	games                              []*game
}

type game struct {
	matchID   string
	gameID    int64
	platform  string
	queueID   int
	start     time.Time
	end       time.Time
	processed time.Time
	players   [playersPerGame]*player
	// Documents are rendered once, on first request, outside the server lock.
	match, timeline func() ([]byte, error)
}

// region is the regional cluster that serves the game's match-v5 documents.
func (g *game) region() string { return platformRegion[g.platform] }

// platformID is the upper-case platform as Riot writes it in ids and JSON.
func (g *game) platformID() string { return strings.ToUpper(g.platform) }

func (g *game) live(now time.Time) bool { return !now.Before(g.start) && now.Before(g.end) }

// AddPlayer registers a Riot ID on a platform and returns its PUUID, derived
// from the Riot ID so the same player always gets the same PUUID. Riot IDs
// resolve case-insensitively. It returns "" for an unknown platform.
func (s *Server) AddPlayer(gameName, tagLine, platform string) (puuid string) {
	if !isPlatform(platform) {
		return ""
	}
	id := riotIDKey(gameName, tagLine)
	puuid = makePUUID("player:" + id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.players[puuid]; ok {
		p.platform = platform
		return puuid
	}
	s.players[puuid] = &player{puuid: puuid, gameName: gameName, tagLine: tagLine, platform: platform}
	s.riotIDs[id] = puuid
	return puuid
}

// AddGame adds a game and returns its match id ("KR_7100000001"). The game
// is live on spectator-v5 in [Start, Start+Duration), enters its players'
// match lists at the end and is served by match-v5 once ProcessingDelay has
// passed. Players sharing a game share one match. AddGame returns "" when the
// spec is invalid: unknown platform, more than ten or repeated players,
// players not added with AddPlayer, or a negative duration or delay.
func (s *Server) AddGame(spec GameSpec) (matchID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if reason := s.checkGame(spec); reason != "" {
		return ""
	}
	s.gameSeq++
	g := &game{
		gameID:   firstGameID + s.gameSeq,
		platform: spec.Platform,
		queueID:  spec.QueueID,
		start:    spec.Start,
	}
	g.matchID = g.platformID() + "_" + strconv.FormatInt(g.gameID, 10)
	if g.queueID == 0 {
		g.queueID = sampleQueueID
	}
	if g.start.IsZero() {
		g.start = s.clock.Now()
	}
	duration := spec.Duration
	if duration == 0 {
		duration = sampleDuration
	}
	g.end = g.start.Add(duration)
	g.processed = g.end.Add(spec.ProcessingDelay)
	for i := range g.players {
		var p *player
		if i < len(spec.Players) {
			p = s.players[spec.Players[i]]
		} else {
			p = &player{
				puuid:    makePUUID("synthetic:" + g.matchID + ":" + strconv.Itoa(i+1)),
				gameName: "Filler " + strconv.Itoa(i+1),
				tagLine:  "RT" + strconv.FormatInt(s.gameSeq, 10),
				platform: g.platform,
			}
			s.players[p.puuid] = p
		}
		p.games = append(p.games, g)
		g.players[i] = p
	}
	g.match = documentRenderer(g, sampleMatchFile, sampleMatchJSON, rewriteMatch)
	g.timeline = documentRenderer(g, sampleTimelineFile, sampleTimelineJSON, rewriteTimeline)
	s.games[g.matchID] = g
	return g.matchID
}

// checkGame returns why spec cannot be added, or "". The caller holds s.mu.
func (s *Server) checkGame(spec GameSpec) string {
	switch {
	case !isPlatform(spec.Platform):
		return "unknown platform"
	case len(spec.Players) > playersPerGame:
		return "more than ten players"
	case spec.Duration < 0 || spec.ProcessingDelay < 0:
		return "negative duration or processing delay"
	}
	seen := make(map[string]bool, len(spec.Players))
	for _, puuid := range spec.Players {
		if _, ok := s.players[puuid]; !ok || seen[puuid] {
			return "player unknown or repeated"
		}
		seen[puuid] = true
	}
	return ""
}

// liveGame returns the game p is playing at now, or nil.
func (p *player) liveGame(now time.Time) *game {
	for _, g := range p.games {
		if g.live(now) {
			return g
		}
	}
	return nil
}

func riotIDKey(gameName, tagLine string) string {
	return strings.ToLower(gameName) + "#" + strings.ToLower(tagLine)
}

// makePUUID returns a 78-character URL-safe id shaped like Riot's PUUIDs.
func makePUUID(seed string) string {
	sum := sha512.Sum512([]byte("riottest:" + seed))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:78]
}
