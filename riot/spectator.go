package riot

import (
	"fmt"
)

// ActiveGame is a spectator-v5 live game.
type ActiveGame struct {
	GameID            int64               `json:"gameId"`
	GameType          string              `json:"gameType"`
	GameMode          string              `json:"gameMode"`
	MapID             int                 `json:"mapId"`
	GameQueueConfigID int                 `json:"gameQueueConfigId"`
	PlatformID        string              `json:"platformId"`
	GameStartTime     int64               `json:"gameStartTime"` // epoch ms; 0 while loading
	GameLength        int64               `json:"gameLength"`    // seconds
	Participants      []ActiveParticipant `json:"participants"`
}

// ActiveParticipant is one player of a live game.
type ActiveParticipant struct {
	PUUID      string `json:"puuid"` // empty for anonymous players
	RiotID     string `json:"riotId"`
	TeamID     int    `json:"teamId"`
	ChampionID int    `json:"championId"`
	Bot        bool   `json:"bot"`
}

// MatchID is the match-v5 id the game will have once it is over.
func (g *ActiveGame) MatchID() string {
	return fmt.Sprintf("%s_%d", g.PlatformID, g.GameID)
}

// Player is a tracked player, resolved to a PUUID.
type Player struct {
	RiotID   string
	Platform string
	PUUID    string
}

// Live is a spectator observation of one player.
type Live struct {
	Player Player
	// Game is the live game, nil when the player is not in one.
	Game *ActiveGame
	// Started and Ended mark the polls where a game appeared or went away;
	// Ended carries the game that just finished in Game.
	Started, Ended bool
}

// DecodeActiveGame decodes a spectator-v5 active game; what names the
// answer in errors.
func DecodeActiveGame(data []byte, what string) (*ActiveGame, error) {
	var g ActiveGame
	if err := unmarshal(data, &g); err != nil {
		return nil, jsonErr(what, err)
	}
	return &g, nil
}
