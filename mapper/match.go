package mapper

import (
	"strconv"
	"strings"
	"time"

	"github.com/riftbridge/riftbridge/riot"
)

// Riot team ids of the two sides of Summoner's Rift and ARAM.
const (
	TeamBlue = 100
	TeamRed  = 200
)

// MatchInfo is what the mapper knows about the match: identity for tags and
// who played what. Fields are zero when no source told us.
type MatchInfo struct {
	MatchID  string
	Platform string
	Queue    int // 0 when unknown
	Patch    string
	GameMode string
	// Start is the wall-clock game start, zero when unknown.
	Start        time.Time
	Participants map[int]Participant
}

// Participant is one player's identity in the match.
type Participant struct {
	ID       int
	Team     int // TeamBlue, TeamRed or 0 when unknown
	Champion string
	Position string // TOP, JUNGLE, MIDDLE, BOTTOM, UTILITY; "" in ARAM/Arena
	RiotID   string // "name#tag"
}

// Describe joins a timeline with its match (nil when unknown) into MatchInfo.
// Without a match only what is certain is inferred: the platform from the
// match id, blue (1–5) and red (6–10) only for a ten-player game, and the
// start time from PAUSE_END or GAME_END realTimestamps.
func Describe(tl *riot.Timeline, m *riot.Match) MatchInfo {
	info := MatchInfo{MatchID: tl.Metadata.MatchID, Participants: map[int]Participant{}}
	if m != nil {
		if info.MatchID == "" {
			info.MatchID = m.Metadata.MatchID
		}
		info.Platform = m.Info.PlatformID
		info.Queue = m.Info.QueueID
		info.Patch = patchOf(m.Info.GameVersion)
		info.GameMode = m.Info.GameMode
		if m.Info.GameStartTimestamp > 0 {
			info.Start = time.UnixMilli(m.Info.GameStartTimestamp).UTC()
		}
		arena := m.Info.GameMode == "CHERRY" || len(m.Info.Participants) > 10
		for _, p := range m.Info.Participants {
			team := p.TeamID
			if arena || (team != TeamBlue && team != TeamRed) {
				team = 0 // Arena's sixteen players fight in subteams, not as blue and red
			}
			info.Participants[p.ParticipantID] = Participant{
				ID: p.ParticipantID, Team: team, Champion: p.ChampionName,
				Position: p.TeamPosition, RiotID: riotID(p),
			}
		}
	}
	if info.Platform == "" {
		if prefix, _, ok := strings.Cut(info.MatchID, "_"); ok {
			info.Platform = prefix
		}
	}
	if info.Start.IsZero() {
		info.Start = startFromEvents(tl)
	}
	if m == nil {
		inferTeams(tl, info.Participants)
	}
	return info
}

// inferTeams applies the one safe rule without a match file: in a ten-player
// game participants 1–5 are blue and 6–10 red.
func inferTeams(tl *riot.Timeline, out map[int]Participant) {
	ids := map[int]bool{}
	for _, p := range tl.Info.Participants {
		ids[p.ParticipantID] = true
	}
	if len(ids) == 0 && len(tl.Info.Frames) > 0 {
		for id := range tl.Info.Frames[0].ParticipantFrames {
			ids[id] = true
		}
	}
	if len(ids) != 10 {
		return
	}
	for id := 1; id <= 10; id++ {
		if !ids[id] {
			return
		}
	}
	for id := 1; id <= 10; id++ {
		team := TeamBlue
		if id > 5 {
			team = TeamRed
		}
		out[id] = Participant{ID: id, Team: team}
	}
}

// startFromEvents derives the game start from an event that carries both the
// game clock and the wall clock (PAUSE_END matches gameStartTimestamp ±0.1 s).
func startFromEvents(tl *riot.Timeline) time.Time {
	for _, f := range tl.Info.Frames {
		for _, e := range f.Events {
			if e.RealTimestamp != nil && *e.RealTimestamp > 0 && (e.Type == riot.EventPauseEnd || e.Type == riot.EventGameEnd) {
				return time.UnixMilli(*e.RealTimestamp - e.Timestamp).UTC()
			}
		}
	}
	return time.Time{}
}

// patchOf turns a gameVersion like "14.7.571.9528" into "14.7".
func patchOf(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return ""
	}
	for _, p := range parts[:2] {
		if _, err := strconv.Atoi(p); err != nil {
			return ""
		}
	}
	return parts[0] + "." + parts[1]
}

func riotID(p riot.MatchParticipant) string {
	name := p.RiotIDGameName
	if name == "" {
		name = p.RiotIDName
	}
	if name == "" {
		return p.SummonerName
	}
	if p.RiotIDTagline == "" {
		return name
	}
	return name + "#" + p.RiotIDTagline
}
