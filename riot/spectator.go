package riot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/riftbridge/riftbridge/state"
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

// LiveMarkers keeps each player's live game beyond one process.
// state.Store implements it.
type LiveMarkers interface {
	LiveGame(ctx context.Context, puuid string) (gameID int64, ok bool, err error)
	SetLiveGame(ctx context.Context, puuid string, gameID int64) error
	ClearLiveGame(ctx context.Context, puuid string) error
}

var _ LiveMarkers = state.Store(nil)

// Spectator polls spectator-v5 for players and reports games starting,
// running and ending. Each player is polled by its own loop; Poll is safe to
// call concurrently for different players.
type Spectator struct {
	Client *Client
	// Markers, when set, keeps every player's live game across restarts and
	// replicas: a game that ended while no one watched is still reported as
	// ended (and its match queued), and a game already reported as started
	// is not reported again.
	Markers LiveMarkers

	mu      sync.Mutex
	current map[string]*ActiveGame // by PUUID: the game seen last poll
	// stored is, by PUUID, the game id Markers holds (0: none), once read;
	// a write that failed leaves it differing from current, so the next
	// poll writes again.
	stored map[string]int64
}

// Poll checks one player once and emits what it saw. "Not in game" is the
// normal idle answer, not an error.
func (s *Spectator) Poll(ctx context.Context, p Player, emit func(context.Context, Live) error) error {
	game, err := s.Client.ActiveGame(ctx, p.Platform, p.PUUID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("player %s: %w", p.RiotID, err)
	}
	if err := s.readMarker(ctx, p); err != nil {
		return fmt.Errorf("player %s: %w", p.RiotID, err)
	}
	s.mu.Lock()
	prev := s.current[p.PUUID]
	if game == nil {
		delete(s.current, p.PUUID)
	} else {
		s.current[p.PUUID] = game
	}
	s.mu.Unlock()

	// The marker follows what this poll saw even when emit fails, as the
	// in-memory state already has.
	return errors.Join(s.emitChange(ctx, p, prev, game, emit), s.writeMarker(ctx, p, game))
}

func (s *Spectator) emitChange(ctx context.Context, p Player, prev, game *ActiveGame, emit func(context.Context, Live) error) error {
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

// readMarker seeds the player's last game from Markers on its first poll
// here. Only the game id survives, which is all that is needed to report
// the end and queue the match.
func (s *Spectator) readMarker(ctx context.Context, p Player) error {
	s.mu.Lock()
	if s.current == nil {
		s.current, s.stored = map[string]*ActiveGame{}, map[string]int64{}
	}
	_, read := s.stored[p.PUUID]
	s.mu.Unlock()
	if s.Markers == nil || read {
		return nil
	}
	gameID, ok, err := s.Markers.LiveGame(ctx, p.PUUID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, seen := s.current[p.PUUID]; ok && !seen {
		s.current[p.PUUID] = &ActiveGame{GameID: gameID, PlatformID: strings.ToUpper(p.Platform)}
	}
	s.stored[p.PUUID] = gameID // 0 when there is none
	return nil
}

// writeMarker makes the stored marker the game this poll saw, if it is not.
func (s *Spectator) writeMarker(ctx context.Context, p Player, game *ActiveGame) error {
	if s.Markers == nil {
		return nil
	}
	var want int64
	if game != nil {
		want = game.GameID
	}
	s.mu.Lock()
	have := s.stored[p.PUUID]
	s.mu.Unlock()
	if have == want {
		return nil
	}
	var err error
	if want == 0 {
		err = s.Markers.ClearLiveGame(ctx, p.PUUID)
	} else {
		err = s.Markers.SetLiveGame(ctx, p.PUUID, want)
	}
	if err != nil {
		return fmt.Errorf("player %s: %w", p.RiotID, err)
	}
	s.mu.Lock()
	s.stored[p.PUUID] = want
	s.mu.Unlock()
	return nil
}

// Forget drops a player's state, for players removed from the config or
// handed to another replica; the marker stays for whoever polls it next.
func (s *Spectator) Forget(puuid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.current, puuid)
	delete(s.stored, puuid)
}
