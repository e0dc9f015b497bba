// Package state is what riftbridge remembers across restarts and shares
// across replicas, so that every finished match is emitted exactly once.
package state

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode"
	"unicode/utf8"
)

// Store is durable emission state: which matches are claimed, how many of
// their frames were sent, how each ended; resolved PUUIDs; live games seen,
// so that their end is not missed; and, for each game followed through the
// game client's Live Client Data API, the next event still to deliver.
// Implementations are safe for concurrent use. Two implement it: Bolt, one
// local file for a single process (the default), and Redis, shared by
// replicas that split the players between them (Replicas) and take leases
// on matches, so that a match shared by players on different replicas is
// emitted once.
//
// The exactly-once bound: an emitter claims a match, writes and flushes one
// frame, records it with Progress, and repeats; Finish closes the match. A
// crash (kill -9) or a lost lease between writing a frame and recording it
// means that frame is sent again by whoever resumes, from the first frame
// not recorded, so the duplicate is bounded to the one frame in flight. Its
// points repeat with the same timestamps and values (Datadog keeps the last
// value of a series at a timestamp); its events, if it has any, appear
// twice. The bound holds only if the emitter records every frame before
// writing the next and stops emitting the match as soon as Progress fails.
// A live cursor has the same bound with a batch of events for a frame: the
// source delivers a batch, records it with SetLiveCursor, and only then
// delivers the next; a crash between the two delivers that batch again.
//
// An owner names one emitting worker and must be unique to it: a live lease
// refuses every Claim, its holder's own included, so two workers that shared
// a name would still not emit one match twice, but only the first would
// proceed. Records are removed once unwritten for the store's retention.
type Store interface {
	// Claim takes the right to emit matchID as owner for ttl, renewed by each
	// Progress. It returns the first frame still to send (the frames recorded
	// so far, kept across crashes and takeovers) and claimed=true; or
	// claimed=false when the match is finished or its lease is live.
	Claim(ctx context.Context, matchID, owner string, ttl time.Duration) (next int, claimed bool, err error)
	// Progress records that the first framesDone frames were sent, and renews
	// the lease for the ttl given to Claim. Recorded progress never moves back.
	// It fails with ErrLeaseLost when owner is not the match's recorded owner
	// (another took over, or the match is finished or unknown): stop emitting.
	Progress(ctx context.Context, matchID, owner string, framesDone int) error
	// Release drops owner's lease on matchID and keeps its recorded
	// progress, so that the next Claim, owner's own included, succeeds at
	// once and resumes from the recorded frames instead of waiting out the
	// ttl: call it when emission stops before the match is finished (Riot
	// has not processed it yet, a write failed). A repeat succeeds.
	// It fails with ErrLeaseLost, as Progress does, when owner is not the
	// match's recorded owner (another took over, or the match is finished or
	// unknown). Until the next Claim owner stays the recorded owner, as when
	// its lease expires, so its Progress would still succeed: stop emitting
	// before releasing.
	Release(ctx context.Context, matchID, owner string) error
	// Finish closes the match with outcome, so no Claim succeeds again, and
	// drops the lease. Repeating it as the same owner is a no-op that keeps
	// the first outcome; any other owner gets ErrLeaseLost.
	Finish(ctx context.Context, matchID, owner string, outcome Outcome) error
	// Status returns the match's record; Phase is Unseen when there is none.
	Status(ctx context.Context, matchID string) (MatchStatus, error)
	// Unfinished lists the claimed matches not yet finished, sorted, whoever
	// holds them: after a restart, claim and resume each.
	Unfinished(ctx context.Context) ([]string, error)

	// PUUID returns the PUUID stored for riotID ("name#tag", used verbatim)
	// on platform, and when it was resolved; ok is false when none is.
	PUUID(ctx context.Context, platform, riotID string) (puuid string, resolvedAt time.Time, ok bool, err error)
	// SetPUUID stores the PUUID resolved for riotID on platform at at.
	SetPUUID(ctx context.Context, platform, riotID, puuid string, at time.Time) error

	// LiveGame returns the game last marked live for puuid; ok is false when
	// none is.
	LiveGame(ctx context.Context, puuid string) (gameID int64, ok bool, err error)
	// SetLiveGame marks gameID live for puuid, replacing any earlier marker.
	SetLiveGame(ctx context.Context, puuid string, gameID int64) error
	// ClearLiveGame removes puuid's marker; clearing none is not an error.
	ClearLiveGame(ctx context.Context, puuid string) error

	// LiveCursor returns where the game followed under key stands: the next
	// event id still to deliver and the game time (seconds) when that was
	// recorded; ok is false when nothing is stored for key. key is opaque
	// to the store and must pass CheckLiveCursorKey. A stored value that
	// cannot be read back is an error naming key and wrapping
	// ErrCorruptRecord; SetLiveCursor overwrites it.
	LiveCursor(ctx context.Context, key string) (next int, gameTime float64, ok bool, err error)
	// SetLiveCursor records that the events of game key before next were
	// delivered, at game time gameTime: call it only once they were. It
	// replaces what is stored, a higher next or a later game time included,
	// so that a new game under an old key can start over; next must be in
	// [0, MaxLiveCursorNext] and gameTime finite and not negative. The
	// record is kept for the store's retention after its last write.
	SetLiveCursor(ctx context.Context, key string, next int, gameTime float64) error

	// Close releases the store; later calls fail with ErrClosed. It is
	// idempotent.
	Close() error
}

// Membership tracks the replicas that share a Redis, so each can compute,
// with Owner, which players are its own.
type Membership interface {
	// Heartbeat announces member alive for ttl; repeat it well within ttl.
	Heartbeat(ctx context.Context, member string, ttl time.Duration) error
	// Members returns the members whose last heartbeat has not expired,
	// sorted.
	Members(ctx context.Context) ([]string, error)
	// Leave removes member at once, so the others take over its players
	// without waiting for its heartbeat to expire.
	Leave(ctx context.Context, member string) error
}

var (
	_ Store      = (*Bolt)(nil)
	_ Store      = (*Redis)(nil)
	_ Membership = (*Redis)(nil)
)

var (
	// ErrLeaseLost means the caller no longer holds the match it is emitting.
	ErrLeaseLost = errors.New("lease lost")
	// ErrClosed is returned by every call on a closed store.
	ErrClosed = errors.New("state store closed")
	// ErrCorruptRecord means one live cursor read back from either backend
	// is not one the store wrote (damaged, or written by someone else): the
	// rest of the store is sound, and writing the record anew repairs it.
	// ErrCorrupt, by contrast, is the whole Bolt file.
	ErrCorruptRecord = errors.New("corrupt record")
)

// Bounds of a live cursor.
const (
	// MaxLiveCursorKeyLen is the longest key LiveCursor and SetLiveCursor
	// accept, in bytes.
	MaxLiveCursorKeyLen = 256
	// MaxLiveCursorNext is the highest next event id SetLiveCursor accepts.
	MaxLiveCursorNext = math.MaxInt32
)

// DefaultRetention is how long a record is kept after its last write unless
// an option says otherwise. It must exceed the catch-up lookback, or a match
// pruned while still inside it would be emitted again.
const DefaultRetention = 30 * 24 * time.Hour

// Outcome is how a match's emission ended.
type Outcome uint8

const (
	// Emitted: every frame was sent.
	Emitted Outcome = iota + 1
	// Skipped: the match was deliberately not emitted (aborted game, remake).
	Skipped
	// Abandoned: the match could not be emitted (not found, malformed) and
	// will not be tried again.
	Abandoned
)

var outcomeNames = [...]string{Emitted: "emitted", Skipped: "skipped", Abandoned: "abandoned"}

func (o Outcome) valid() bool { return o >= Emitted && o <= Abandoned }

// String returns the outcome's lowercase name, for logs and metric tags.
func (o Outcome) String() string {
	if o.valid() {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

func parseOutcome(s string) (Outcome, bool) {
	for o := Emitted; o <= Abandoned; o++ {
		if outcomeNames[o] == s {
			return o, true
		}
	}
	return 0, false
}

// Phase is where a match stands.
type Phase uint8

const (
	// Unseen: no record (never claimed, or pruned).
	Unseen Phase = iota
	// Claimed: claimed and not finished; emission is under way or was
	// interrupted.
	Claimed
	// Finished: closed with an Outcome.
	Finished
)

// String returns the phase's lowercase name.
func (p Phase) String() string {
	switch p {
	case Unseen:
		return "unseen"
	case Claimed:
		return "claimed"
	case Finished:
		return "finished"
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// MatchStatus is a match's stored record.
type MatchStatus struct {
	Phase      Phase
	Outcome    Outcome // set when Finished
	FramesDone int     // frames recorded by Progress
	Owner      string  // the last claimant
	// LeaseExpires is when Owner's lease ends; zero once released or
	// finished, and in Bolt, which keeps leases in memory, when claimed by an
	// earlier process.
	LeaseExpires time.Time
	UpdatedAt    time.Time // the record's last write
	// FirstClaimed is when the match was first claimed, by anyone: how long
	// it has waited, across restarts and replicas.
	FirstClaimed time.Time
}

func checkClaim(matchID, owner string, ttl time.Duration) error {
	if err := checkMatch("claim", matchID, owner); err != nil {
		return err
	}
	if ttl <= 0 {
		return fmt.Errorf("claim match %s: ttl %v must be positive", matchID, ttl)
	}
	return nil
}

func checkProgress(matchID, owner string, framesDone int) error {
	if err := checkMatch("progress", matchID, owner); err != nil {
		return err
	}
	if framesDone < 0 {
		return fmt.Errorf("progress match %s: frames done %d is negative", matchID, framesDone)
	}
	return nil
}

func checkFinish(matchID, owner string, o Outcome) error {
	if err := checkMatch("finish", matchID, owner); err != nil {
		return err
	}
	if !o.valid() {
		return fmt.Errorf("finish match %s: invalid %v", matchID, o)
	}
	return nil
}

func checkMatch(op, matchID, owner string) error {
	if matchID == "" {
		return fmt.Errorf("%s: empty match id", op)
	}
	if owner == "" {
		return fmt.Errorf("%s match %s: empty owner", op, matchID)
	}
	return nil
}

// CheckLiveCursorKey reports why key cannot name a live cursor, or nil: it
// must be valid UTF-8, non-empty, at most MaxLiveCursorKeyLen bytes and free
// of control characters (C0, DEL and C1), so that it reads plainly in keys,
// logs and errors.
func CheckLiveCursorKey(key string) error {
	switch {
	case key == "":
		return errors.New("live cursor: empty key")
	case len(key) > MaxLiveCursorKeyLen:
		return fmt.Errorf("live cursor %s: key over %d bytes", quoteBounded(key), MaxLiveCursorKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("live cursor %s: key is not valid UTF-8", quoteBounded(key))
	}
	for _, r := range key {
		if unicode.IsControl(r) {
			return fmt.Errorf("live cursor %s: key holds control character %U", quoteBounded(key), r)
		}
	}
	return nil
}

func checkSetLiveCursor(key string, next int, gameTime float64) error {
	if err := CheckLiveCursorKey(key); err != nil {
		return fmt.Errorf("set %w", err)
	}
	if err := checkLiveCursor(int64(next), gameTime); err != nil {
		return fmt.Errorf("set live cursor %q: %w", key, err)
	}
	return nil
}

// checkLiveCursor says what is wrong with a cursor's values, written or
// read back, or nil.
func checkLiveCursor(next int64, gameTime float64) error {
	switch {
	case next < 0 || next > MaxLiveCursorNext:
		return fmt.Errorf("next event id %d outside [0, %d]", next, MaxLiveCursorNext)
	case math.IsNaN(gameTime) || math.IsInf(gameTime, 0) || gameTime < 0:
		return fmt.Errorf("game time %v is not a finite, non-negative number of seconds", gameTime)
	}
	return nil
}

// plainZero turns -0 into 0, so that a game time reads back as a plain
// number.
func plainZero(f float64) float64 {
	if f == 0 {
		return 0
	}
	return f
}

// quoteBounded quotes s for an error, cut to 64 bytes: a value read back
// may be anything, of any size.
func quoteBounded(s string) string {
	const limit = 64
	if len(s) <= limit {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:limit], len(s))
}
