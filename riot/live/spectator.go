package live

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/api"
)

// LiveMarkers keeps each player's live game beyond one process.
// state.Store is one.
type LiveMarkers interface {
	LiveGame(ctx context.Context, puuid string) (gameID int64, ok bool, err error)
	SetLiveGame(ctx context.Context, puuid string, gameID int64) error
	ClearLiveGame(ctx context.Context, puuid string) error
}

// Spectator polls spectator-v5 for players and reports games starting,
// running and ending. Each player is polled by its own loop; Poll is safe to
// call concurrently for different players.
type Spectator struct {
	client  *api.Client
	markers LiveMarkers

	mu      sync.Mutex
	current map[string]*riot.ActiveGame // by PUUID: the game seen last poll
	// stored is, by PUUID, the game id markers holds (0: none), once read;
	// a write that failed leaves it differing from current, so the next
	// poll writes again.
	stored map[string]int64
}

// SpectatorOption configures a Spectator.
type SpectatorOption func(*Spectator)

// WithMarkers keeps every player's live game in m across restarts and
// replicas: a game that ended while no one watched is still reported as
// ended (and its match queued), and a game already reported as started is
// not reported again. Default: none.
func WithMarkers(m LiveMarkers) SpectatorOption { return func(s *Spectator) { s.markers = m } }

// NewSpectator returns a spectator polling through client.
func NewSpectator(client *api.Client, opts ...SpectatorOption) *Spectator {
	s := &Spectator{client: client, current: map[string]*riot.ActiveGame{}, stored: map[string]int64{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Poll checks one player once and emits what it saw. "Not in game" is the
// normal idle answer, not an error.
func (s *Spectator) Poll(ctx context.Context, p riot.Player, emit func(context.Context, riot.Live) error) error {
	game, err := s.client.ActiveGame(ctx, p.Platform, p.PUUID)
	if err != nil && !errors.Is(err, api.ErrNotFound) {
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

func (s *Spectator) emitChange(ctx context.Context, p riot.Player, prev, game *riot.ActiveGame, emit func(context.Context, riot.Live) error) error {
	switch {
	case game == nil && prev != nil:
		return emit(ctx, riot.Live{Player: p, Game: prev, Ended: true})
	case game == nil:
		return emit(ctx, riot.Live{Player: p})
	case prev != nil && prev.GameID != game.GameID:
		// The previous game ended between two polls and a new one began.
		if err := emit(ctx, riot.Live{Player: p, Game: prev, Ended: true}); err != nil {
			return err
		}
		return emit(ctx, riot.Live{Player: p, Game: game, Started: true})
	}
	return emit(ctx, riot.Live{Player: p, Game: game, Started: prev == nil})
}

// readMarker seeds the player's last game from the markers on its first poll
// here. Only the game id survives, which is all that is needed to report
// the end and queue the match.
func (s *Spectator) readMarker(ctx context.Context, p riot.Player) error {
	s.mu.Lock()
	_, read := s.stored[p.PUUID]
	s.mu.Unlock()
	if s.markers == nil || read {
		return nil
	}
	gameID, ok, err := s.markers.LiveGame(ctx, p.PUUID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, seen := s.current[p.PUUID]; ok && !seen {
		s.current[p.PUUID] = &riot.ActiveGame{GameID: gameID, PlatformID: strings.ToUpper(p.Platform)}
	}
	s.stored[p.PUUID] = gameID // 0 when there is none
	return nil
}

// writeMarker makes the stored marker the game this poll saw, if it is not.
func (s *Spectator) writeMarker(ctx context.Context, p riot.Player, game *riot.ActiveGame) error {
	if s.markers == nil {
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
		err = s.markers.ClearLiveGame(ctx, p.PUUID)
	} else {
		err = s.markers.SetLiveGame(ctx, p.PUUID, want)
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
