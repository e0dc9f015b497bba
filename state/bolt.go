package state

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
)

// ErrLocked means another process holds the state file.
var ErrLocked = errors.New("locked by another riftbridge")

// DefaultLockTimeout is how long OpenBolt waits for another process to
// release the file before failing with ErrLocked.
const DefaultLockTimeout = time.Second

// pruneEvery spaces Bolt's pruning passes; each runs inside a Finish.
const pruneEvery = time.Hour

var (
	bucketActive = []byte("active") // match id → matchRecord, claimed and not finished
	bucketDone   = []byte("done")   // match id → matchRecord, finished
	bucketPUUIDs = []byte("puuids") // platform NUL riot id → resolved at | written at | puuid
	bucketLive   = []byte("live")   // puuid → game id | at
	// live cursor key → liveCursorRecord
	bucketLiveCursors = []byte("livecursors")
)

// Bolt is a Store in one bbolt file for a single process. Every write is its
// own fsync'd transaction, so whatever a call acknowledged survives kill -9,
// and power loss as far as the disk honours fsync. An flock keeps a second
// process out of the file.
//
// Leases live in memory: within the process they work as in Redis, and a
// restart drops them, so a match an earlier process left unfinished can be
// claimed at once (the lock proves that process dead).
type Bolt struct {
	db          *bolt.DB
	path        string
	clock       clockwork.Clock
	retention   time.Duration
	lockTimeout time.Duration

	// mu guards leases and lastPrune, and keeps each lease check and the
	// write it allows together.
	mu        sync.Mutex
	leases    map[string]lease
	lastPrune time.Time

	closeOnce sync.Once
	closeErr  error
}

type lease struct {
	owner string
	until time.Time
	ttl   time.Duration
}

// BoltOption configures OpenBolt.
type BoltOption func(*Bolt)

// BoltLockTimeout sets how long OpenBolt may wait for the file lock, which
// bbolt tries every 50 ms; non-positive keeps the default, DefaultLockTimeout.
func BoltLockTimeout(d time.Duration) BoltOption {
	return func(b *Bolt) {
		if d > 0 {
			b.lockTimeout = d
		}
	}
}

// BoltRetention sets how long records are kept after their last write; they
// are pruned when the file is opened and at most hourly after that, so one
// may outlive it by an hour. Non-positive keeps DefaultRetention.
func BoltRetention(d time.Duration) BoltOption {
	return func(b *Bolt) {
		if d > 0 {
			b.retention = d
		}
	}
}

// OpenBolt opens the state file at path, creating it and its directory if
// needed, and prunes expired records. It fails with ErrLocked when another
// process keeps the file past the lock timeout, and with ErrCorrupt when the
// file is truncated, damaged or not a state file. Leases, timestamps and
// pruning read set's clock.
func OpenBolt(path string, set telemetry.Settings, opts ...BoltOption) (*Bolt, error) {
	b := &Bolt{
		path:        path,
		clock:       set.Defaults().Clock,
		retention:   DefaultRetention,
		lockTimeout: DefaultLockTimeout,
		leases:      make(map[string]lease),
	}
	for _, o := range opts {
		o(b)
	}
	if path == "" {
		return nil, errors.New("state file: empty path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	if err := checkBoltFile(path); err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	var db *bolt.DB
	err := guard(func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: b.lockTimeout})
		return err
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("state file %s is %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	b.db = db
	now := b.clock.Now()
	// The prune reads every record: a damaged page panics here, under guard,
	// rather than in a later call.
	err = guard(func() error {
		return db.Update(func(tx *bolt.Tx) error {
			for _, name := range [][]byte{bucketActive, bucketDone, bucketPUUIDs, bucketLive, bucketLiveCursors} {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			_, err := b.prune(tx, now)
			return err
		})
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open state file %s: %w", path, err)
	}
	b.lastPrune = now
	return b, nil
}

// errNoWrite rolls a transaction back when it finds nothing to write.
var errNoWrite = errors.New("nothing to write")

// Claim implements Store.
func (b *Bolt) Claim(ctx context.Context, matchID, owner string, ttl time.Duration) (int, bool, error) {
	if err := checkClaim(matchID, owner, ttl); err != nil {
		return 0, false, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	if l, ok := b.leases[matchID]; ok && now.Before(l.until) {
		return 0, false, nil
	}
	var next int
	err := b.update(ctx, func(tx *bolt.Tx) error {
		key := []byte(matchID)
		if tx.Bucket(bucketDone).Get(key) != nil {
			return errNoWrite
		}
		active := tx.Bucket(bucketActive)
		var rec matchRecord
		if v := active.Get(key); v != nil {
			var err error
			if rec, err = decodeMatch(v); err != nil {
				return err
			}
		}
		rec.owner, rec.at = owner, now
		if rec.first.IsZero() {
			rec.first = now
		}
		next = int(rec.frames)
		return active.Put(key, rec.encode())
	})
	if errors.Is(err, errNoWrite) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, b.wrap("claim match "+matchID, err)
	}
	b.leases[matchID] = lease{owner: owner, until: now.Add(ttl), ttl: ttl}
	return next, true, nil
}

// Progress implements Store.
func (b *Bolt) Progress(ctx context.Context, matchID, owner string, framesDone int) error {
	if err := checkProgress(matchID, owner, framesDone); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	l, err := b.updateHeld(ctx, "progress", matchID, owner, now, func(rec *matchRecord) {
		rec.frames = max(rec.frames, uint64(framesDone))
	})
	if err != nil {
		return err
	}
	l.until = now.Add(l.ttl)
	b.leases[matchID] = l
	return nil
}

// Release implements Store. It keeps the lease's owner and ttl with a zero
// end, so that the releaser's Progress still renews it, as in Redis.
func (b *Bolt) Release(ctx context.Context, matchID, owner string) error {
	if err := checkMatch("release", matchID, owner); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	l, err := b.updateHeld(ctx, "release", matchID, owner, b.clock.Now(), func(*matchRecord) {})
	if err != nil {
		return err
	}
	l.until = time.Time{}
	b.leases[matchID] = l
	return nil
}

// updateHeld applies change to matchID's active record and stamps it now,
// when owner holds the match: its lease in this process and its record. It
// returns the lease for the caller to renew or drop; b.mu must be held.
func (b *Bolt) updateHeld(ctx context.Context, op, matchID, owner string, now time.Time, change func(*matchRecord)) (lease, error) {
	l, ok := b.leases[matchID]
	if !ok || l.owner != owner {
		return lease{}, fmt.Errorf("%s match %s as %s: %w", op, matchID, owner, ErrLeaseLost)
	}
	err := b.update(ctx, func(tx *bolt.Tx) error {
		active := tx.Bucket(bucketActive)
		key := []byte(matchID)
		v := active.Get(key)
		if v == nil {
			return ErrLeaseLost // finished, or pruned
		}
		rec, err := decodeMatch(v)
		if err != nil {
			return err
		}
		if rec.owner != owner {
			return ErrLeaseLost
		}
		change(&rec)
		rec.at = now
		return active.Put(key, rec.encode())
	})
	if errors.Is(err, ErrLeaseLost) {
		return lease{}, fmt.Errorf("%s match %s as %s: %w", op, matchID, owner, ErrLeaseLost)
	}
	if err != nil {
		return lease{}, b.wrap(op+" match "+matchID, err)
	}
	return l, nil
}

// Finish implements Store. It also prunes expired records when the last pass
// is an hour old.
func (b *Bolt) Finish(ctx context.Context, matchID, owner string, outcome Outcome) error {
	if err := checkFinish(matchID, owner, outcome); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	var pruned []string
	prune := now.Sub(b.lastPrune) >= pruneEvery
	err := b.update(ctx, func(tx *bolt.Tx) error {
		key := []byte(matchID)
		done := tx.Bucket(bucketDone)
		if v := done.Get(key); v != nil {
			rec, err := decodeMatch(v)
			if err != nil {
				return err
			}
			if rec.owner != owner {
				return ErrLeaseLost
			}
			return errNoWrite
		}
		active := tx.Bucket(bucketActive)
		v := active.Get(key)
		if v == nil {
			return ErrLeaseLost
		}
		rec, err := decodeMatch(v)
		if err != nil {
			return err
		}
		if rec.owner != owner {
			return ErrLeaseLost
		}
		rec.outcome, rec.at = outcome, now
		if err := done.Put(key, rec.encode()); err != nil {
			return err
		}
		if err := active.Delete(key); err != nil {
			return err
		}
		if prune {
			pruned, err = b.prune(tx, now)
		}
		return err
	})
	switch {
	case errors.Is(err, errNoWrite):
		return nil
	case errors.Is(err, ErrLeaseLost):
		return fmt.Errorf("finish match %s as %s: %w", matchID, owner, ErrLeaseLost)
	case err != nil:
		return b.wrap("finish match "+matchID, err)
	}
	delete(b.leases, matchID)
	if prune {
		b.forget(pruned)
		b.lastPrune = now
	}
	return nil
}

// Status implements Store.
func (b *Bolt) Status(ctx context.Context, matchID string) (MatchStatus, error) {
	var st MatchStatus
	err := b.view(ctx, func(tx *bolt.Tx) error {
		key := []byte(matchID)
		v, phase := tx.Bucket(bucketDone).Get(key), Finished
		if v == nil {
			v, phase = tx.Bucket(bucketActive).Get(key), Claimed
		}
		if v == nil {
			return nil
		}
		rec, err := decodeMatch(v)
		if err != nil {
			return err
		}
		st = MatchStatus{Phase: phase, Outcome: rec.outcome, FramesDone: int(rec.frames), Owner: rec.owner, UpdatedAt: rec.at, FirstClaimed: rec.first}
		return nil
	})
	if err != nil {
		return MatchStatus{}, b.wrap("status of match "+matchID, err)
	}
	if st.Phase == Claimed {
		b.mu.Lock()
		if l, ok := b.leases[matchID]; ok && l.owner == st.Owner {
			st.LeaseExpires = l.until
		}
		b.mu.Unlock()
	}
	return st, nil
}

// Unfinished implements Store.
func (b *Bolt) Unfinished(ctx context.Context) ([]string, error) {
	var ids []string
	err := b.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketActive).ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k)) // bbolt iterates in key order
			return nil
		})
	})
	if err != nil {
		return nil, b.wrap("list unfinished matches", err)
	}
	return ids, nil
}

// PUUID implements Store.
func (b *Bolt) PUUID(ctx context.Context, platform, riotID string) (string, time.Time, bool, error) {
	var (
		puuid string
		at    time.Time
		ok    bool
	)
	err := b.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketPUUIDs).Get(puuidKey(platform, riotID))
		if v == nil {
			return nil
		}
		var err error
		puuid, at, _, err = decodePUUID(v)
		ok = err == nil
		return err
	})
	if err != nil {
		return "", time.Time{}, false, b.wrap(fmt.Sprintf("puuid of %s on %s", riotID, platform), err)
	}
	return puuid, at, ok, nil
}

// SetPUUID implements Store.
func (b *Bolt) SetPUUID(ctx context.Context, platform, riotID, puuid string, at time.Time) error {
	if platform == "" || riotID == "" || puuid == "" {
		return fmt.Errorf("set puuid of %q on %q: empty platform, riot id or puuid", riotID, platform)
	}
	now := b.clock.Now()
	err := b.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPUUIDs).Put(puuidKey(platform, riotID), encodePUUID(puuid, at, now))
	})
	if err != nil {
		return b.wrap(fmt.Sprintf("set puuid of %s on %s", riotID, platform), err)
	}
	return nil
}

// LiveGame implements Store.
func (b *Bolt) LiveGame(ctx context.Context, puuid string) (int64, bool, error) {
	var (
		gameID int64
		ok     bool
	)
	err := b.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketLive).Get([]byte(puuid))
		if v == nil {
			return nil
		}
		var err error
		gameID, _, err = decodeLive(v)
		ok = err == nil
		return err
	})
	if err != nil {
		return 0, false, b.wrap("live game of "+puuid, err)
	}
	return gameID, ok, nil
}

// SetLiveGame implements Store.
func (b *Bolt) SetLiveGame(ctx context.Context, puuid string, gameID int64) error {
	if puuid == "" {
		return errors.New("set live game: empty puuid")
	}
	now := b.clock.Now()
	err := b.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLive).Put([]byte(puuid), encodeLive(gameID, now))
	})
	if err != nil {
		return b.wrap("set live game of "+puuid, err)
	}
	return nil
}

// ClearLiveGame implements Store.
func (b *Bolt) ClearLiveGame(ctx context.Context, puuid string) error {
	err := b.update(ctx, func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketLive)
		if bk.Get([]byte(puuid)) == nil {
			return errNoWrite
		}
		return bk.Delete([]byte(puuid))
	})
	if err != nil && !errors.Is(err, errNoWrite) {
		return b.wrap("clear live game of "+puuid, err)
	}
	return nil
}

// LiveCursor implements Store.
func (b *Bolt) LiveCursor(ctx context.Context, key string) (int, float64, bool, error) {
	if err := CheckLiveCursorKey(key); err != nil {
		return 0, 0, false, err
	}
	var (
		rec liveCursorRecord
		ok  bool
	)
	err := b.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketLiveCursors).Get([]byte(key))
		if v == nil {
			return nil
		}
		var err error
		rec, err = decodeLiveCursor(v)
		ok = err == nil
		return err
	})
	if err != nil {
		return 0, 0, false, b.wrap(fmt.Sprintf("live cursor %q", key), err)
	}
	return int(rec.next), rec.gameTime, ok, nil
}

// SetLiveCursor implements Store.
func (b *Bolt) SetLiveCursor(ctx context.Context, key string, next int, gameTime float64) error {
	if err := checkSetLiveCursor(key, next, gameTime); err != nil {
		return err
	}
	rec := liveCursorRecord{next: uint64(next), gameTime: gameTime, at: b.clock.Now()}
	err := b.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLiveCursors).Put([]byte(key), rec.encode())
	})
	if err != nil {
		return b.wrap(fmt.Sprintf("set live cursor %q", key), err)
	}
	return nil
}

// Close implements Store.
func (b *Bolt) Close() error {
	b.closeOnce.Do(func() {
		if err := b.db.Close(); err != nil {
			b.closeErr = fmt.Errorf("close state file %s: %w", b.path, err)
		}
	})
	return b.closeErr
}

func (b *Bolt) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.Update(fn)
}

func (b *Bolt) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.View(fn)
}

func (b *Bolt) wrap(op string, err error) error {
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		err = ErrClosed
	}
	return fmt.Errorf("%s: state file %s: %w", op, b.path, err)
}

// prune deletes the records last written a retention or more ago and
// returns the unfinished matches among them, whose leases the caller forgets
// once the transaction commits.
func (b *Bolt) prune(tx *bolt.Tx, now time.Time) (active []string, err error) {
	cutoff := now.Add(-b.retention)
	buckets := []struct {
		name []byte
		at   func(v []byte) (time.Time, error)
	}{
		{bucketActive, func(v []byte) (time.Time, error) { r, err := decodeMatch(v); return r.at, err }},
		{bucketDone, func(v []byte) (time.Time, error) { r, err := decodeMatch(v); return r.at, err }},
		{bucketPUUIDs, func(v []byte) (time.Time, error) { _, _, at, err := decodePUUID(v); return at, err }},
		{bucketLive, func(v []byte) (time.Time, error) { _, at, err := decodeLive(v); return at, err }},
		{bucketLiveCursors, func(v []byte) (time.Time, error) { r, err := decodeLiveCursor(v); return r.at, err }},
	}
	for i, bk := range buckets {
		bucket := tx.Bucket(bk.name)
		// Deleting under a cursor can skip the next key: collect, then delete.
		var stale [][]byte
		err := bucket.ForEach(func(k, v []byte) error {
			at, err := bk.at(v)
			if err != nil {
				return fmt.Errorf("bucket %s key %q: %w", bk.name, k, err)
			}
			if !at.After(cutoff) {
				stale = append(stale, k)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, k := range stale {
			if err := bucket.Delete(k); err != nil {
				return nil, err
			}
			if i == 0 {
				active = append(active, string(k))
			}
		}
	}
	return active, nil
}

// forget drops the leases of pruned matches; b.mu must be held.
func (b *Bolt) forget(ids []string) {
	for _, id := range ids {
		delete(b.leases, id)
	}
}

func puuidKey(platform, riotID string) []byte {
	return []byte(platform + "\x00" + riotID)
}

func unixMilli(b []byte) time.Time {
	return time.UnixMilli(int64(binary.BigEndian.Uint64(b)))
}

// matchRecord is a match's value in the active and done buckets:
// version (2) | outcome | frames (8, big endian) | at (8, Unix ms) |
// first claimed (8, Unix ms) | owner.
type matchRecord struct {
	outcome Outcome
	frames  uint64
	at      time.Time
	first   time.Time // first claimed
	owner   string
}

const (
	matchRecordVersion = 2
	matchRecordHeader  = 1 + 1 + 8 + 8 + 8
)

func (r matchRecord) encode() []byte {
	v := make([]byte, 0, matchRecordHeader+len(r.owner))
	v = append(v, matchRecordVersion, byte(r.outcome))
	v = binary.BigEndian.AppendUint64(v, r.frames)
	v = binary.BigEndian.AppendUint64(v, uint64(r.at.UnixMilli()))
	v = binary.BigEndian.AppendUint64(v, uint64(r.first.UnixMilli()))
	return append(v, r.owner...)
}

func decodeMatch(v []byte) (matchRecord, error) {
	if len(v) < matchRecordHeader || v[0] != matchRecordVersion {
		return matchRecord{}, fmt.Errorf("corrupt match record (%d bytes)", len(v))
	}
	return matchRecord{
		outcome: Outcome(v[1]),
		frames:  binary.BigEndian.Uint64(v[2:10]),
		at:      unixMilli(v[10:18]),
		first:   unixMilli(v[18:26]),
		owner:   string(v[26:]),
	}, nil
}

// A PUUID record is resolved at (8, Unix ms) | written at (8) | puuid.
func encodePUUID(puuid string, resolved, written time.Time) []byte {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 16+len(puuid)), uint64(resolved.UnixMilli()))
	v = binary.BigEndian.AppendUint64(v, uint64(written.UnixMilli()))
	return append(v, puuid...)
}

func decodePUUID(v []byte) (puuid string, resolved, written time.Time, err error) {
	if len(v) < 16 {
		return "", time.Time{}, time.Time{}, fmt.Errorf("corrupt puuid record (%d bytes)", len(v))
	}
	return string(v[16:]), unixMilli(v[:8]), unixMilli(v[8:16]), nil
}

// A live-game record is game id (8) | at (8, Unix ms).
func encodeLive(gameID int64, at time.Time) []byte {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(gameID))
	return binary.BigEndian.AppendUint64(v, uint64(at.UnixMilli()))
}

func decodeLive(v []byte) (int64, time.Time, error) {
	if len(v) != 16 {
		return 0, time.Time{}, fmt.Errorf("corrupt live-game record (%d bytes)", len(v))
	}
	return int64(binary.BigEndian.Uint64(v)), unixMilli(v[8:]), nil
}

// liveCursorRecord is a live cursor's value in the livecursors bucket:
// version (1) | next (8, big endian) | game time (8, IEEE 754 binary64 bits,
// big endian) | at (8, Unix ms), 25 bytes.
type liveCursorRecord struct {
	next     uint64
	gameTime float64
	at       time.Time // the last write
}

const (
	liveCursorVersion = 1
	liveCursorLen     = 1 + 8 + 8 + 8
)

func (r liveCursorRecord) encode() []byte {
	v := append(make([]byte, 0, liveCursorLen), liveCursorVersion)
	v = binary.BigEndian.AppendUint64(v, r.next)
	v = binary.BigEndian.AppendUint64(v, math.Float64bits(plainZero(r.gameTime)))
	return binary.BigEndian.AppendUint64(v, uint64(r.at.UnixMilli()))
}

func decodeLiveCursor(v []byte) (liveCursorRecord, error) {
	switch {
	case len(v) != liveCursorLen:
		return liveCursorRecord{}, fmt.Errorf("%w: live cursor of %d bytes, want %d", ErrCorruptRecord, len(v), liveCursorLen)
	case v[0] != liveCursorVersion:
		return liveCursorRecord{}, fmt.Errorf("%w: live cursor version %d, want %d", ErrCorruptRecord, v[0], liveCursorVersion)
	}
	r := liveCursorRecord{
		next:     binary.BigEndian.Uint64(v[1:9]),
		gameTime: plainZero(math.Float64frombits(binary.BigEndian.Uint64(v[9:17]))),
		at:       unixMilli(v[17:25]),
	}
	if r.next > MaxLiveCursorNext {
		return liveCursorRecord{}, fmt.Errorf("%w: live cursor next event id %d over %d", ErrCorruptRecord, r.next, MaxLiveCursorNext)
	}
	if err := checkLiveCursor(int64(r.next), r.gameTime); err != nil {
		return liveCursorRecord{}, fmt.Errorf("%w: live cursor %w", ErrCorruptRecord, err)
	}
	return r, nil
}
