package riot

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

// Spectator polls spectator-v5 for players and reports games starting,
// running and ending. Each player is polled by its own loop; Poll is safe to
// call concurrently for different players.
type Spectator struct {
	Client *Client

	mu      sync.Mutex
	current map[string]*ActiveGame // by PUUID: the game seen last poll
}

// Poll checks one player once and emits what it saw. "Not in game" is the
// normal idle answer, not an error.
func (s *Spectator) Poll(ctx context.Context, p Player, emit func(context.Context, Live) error) error {
	game, err := s.Client.ActiveGame(ctx, p.Platform, p.PUUID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("player %s: %w", p.RiotID, err)
	}
	s.mu.Lock()
	if s.current == nil {
		s.current = map[string]*ActiveGame{}
	}
	prev := s.current[p.PUUID]
	if game == nil {
		delete(s.current, p.PUUID)
	} else {
		s.current[p.PUUID] = game
	}
	s.mu.Unlock()

	switch {
	case game == nil && prev != nil:
		return emit(ctx, Live{Player: p, Game: prev, Ended: true})
	case game == nil:
		return emit(ctx, Live{Player: p})
	case prev != nil && prev.GameID != game.GameID:
		// The previous game ended between two polls and a new one began.
		if err := emit(ctx, Live{Player: p, Game: prev, Ended: true}); err != nil {
			return err
		}
		return emit(ctx, Live{Player: p, Game: game, Started: true})
	}
	return emit(ctx, Live{Player: p, Game: game, Started: prev == nil})
}

// Forget drops a player's state, for players removed from the config.
func (s *Spectator) Forget(puuid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.current, puuid)
}
