package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/riftbridge/riftbridge/state/redisconn"
)

// DefaultRedisPrefix starts every key unless RedisPrefix says otherwise.
const DefaultRedisPrefix = "riftbridge:"

// Redis is a Store, and the Membership, that replicas share through one
// Redis. Claim, Progress, Release and Finish each run as one Lua script,
// atomic on the server, and leases and heartbeats expire by the server's
// clock, so replicas' clocks need not agree. Every key starts with a prefix,
// so several deployments can share a server. A single Redis (not Cluster) is
// expected, and it must persist (AOF or RDB): a Redis that comes back empty
// has forgotten which matches were emitted.
//
// The keys, after the prefix:
//
//	match:<match id>         hash, a match's record (see claimScript)
//	unfinished               sorted set, claimed unfinished match ids by last write
//	puuid:<platform>:<riot>  string "<resolved at, Unix ms> <puuid>"
//	live:<puuid>             string, the game id marked live
//	livecursor:<key>         string "<next event id> <game time, s>"
//	members                  sorted set, replicas by heartbeat expiry (server Unix ms)
//
// The match, puuid, live and livecursor keys expire after the retention,
// renewed by each write of them; unfinished and members shed their stale
// entries as they are read. The shared rate limiter's keys are
// riot/ratelimit's.
type Redis struct {
	conn      *redisconn.Conn
	client    atomic.Pointer[redis.Client] // conn's, or a closed one after Close
	prefix    string
	retention time.Duration
}

// RedisOption configures NewRedis.
type RedisOption func(*Redis)

// RedisPrefix sets the prefix of every key; "" keeps DefaultRedisPrefix.
func RedisPrefix(p string) RedisOption {
	return func(r *Redis) {
		if p != "" {
			r.prefix = p
		}
	}
}

// RedisRetention sets how long a record is kept after its last write;
// non-positive keeps DefaultRetention.
func RedisRetention(d time.Duration) RedisOption {
	return func(r *Redis) {
		if d > 0 {
			r.retention = d
		}
	}
}

// NewRedis returns a store on conn, which it shares and does not close: a
// Redis that is down makes each call fail with redisconn.ErrUnavailable
// until it is back. Every error names the URL without its password.
func NewRedis(conn *redisconn.Conn, opts ...RedisOption) *Redis {
	r := &Redis{conn: conn, prefix: DefaultRedisPrefix, retention: DefaultRetention}
	r.client.Store(conn.Client)
	for _, o := range opts {
		o(r)
	}
	return r
}

const luaNow = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// A match is a hash: owner, until (lease end, server Unix ms), ttl (ms),
// frames, at (last write), first (first claim), and outcome once finished. The unfinished sorted
// set holds the ids of claimed, unfinished matches scored by their last
// write.

// claimScript: KEYS match, unfinished; ARGV id, owner, ttl ms, retention ms.
// It returns {1, frames} when claimed, {0, 0} when finished or leased.
var claimScript = redis.NewScript(luaNow + `
local rec = redis.call('HMGET', KEYS[1], 'outcome', 'until', 'frames')
if rec[1] or (rec[2] and tonumber(rec[2]) > now) then
	return {0, 0}
end
local frames = tonumber(rec[3]) or 0
redis.call('HSETNX', KEYS[1], 'first', now)
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'until', now + tonumber(ARGV[3]), 'ttl', ARGV[3], 'frames', frames, 'at', now)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], now, ARGV[1])
return {1, frames}
`)

// progressScript: KEYS match, unfinished; ARGV id, owner, frames, retention
// ms. It returns {1, ""}, or {0, recorded owner} when owner is not it or
// the match is finished.
var progressScript = redis.NewScript(luaNow + `
local rec = redis.call('HMGET', KEYS[1], 'outcome', 'owner', 'frames', 'ttl')
if rec[1] or rec[2] ~= ARGV[2] then
	return {0, rec[2] or ''}
end
local frames = math.max(tonumber(rec[3]) or 0, tonumber(ARGV[3]))
redis.call('HSET', KEYS[1], 'until', now + tonumber(rec[4]), 'frames', frames, 'at', now)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], now, ARGV[1])
return {1, ''}
`)

// releaseScript: KEYS match, unfinished; ARGV id, owner, retention ms. It
// ends the lease now but keeps its ttl, so the releaser's Progress renews it
// as after an expiry, and returns {1, ""}, or {0, recorded owner} when owner
// is not it or the match is finished.
var releaseScript = redis.NewScript(luaNow + `
local rec = redis.call('HMGET', KEYS[1], 'outcome', 'owner')
if rec[1] or rec[2] ~= ARGV[2] then
	return {0, rec[2] or ''}
end
redis.call('HSET', KEYS[1], 'until', 0, 'at', now)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[1])
return {1, ''}
`)

// finishScript: KEYS match, unfinished; ARGV id, owner, outcome, retention
// ms. It returns {1, ""}, also when owner already finished the match, or
// {0, recorded owner}.
var finishScript = redis.NewScript(luaNow + `
local rec = redis.call('HMGET', KEYS[1], 'outcome', 'owner')
if rec[2] ~= ARGV[2] then
	return {0, rec[2] or ''}
end
if rec[1] then
	return {1, ''}
end
redis.call('HDEL', KEYS[1], 'until', 'ttl')
redis.call('HSET', KEYS[1], 'outcome', ARGV[3], 'at', now)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZREM', KEYS[2], ARGV[1])
return {1, ''}
`)

// unfinishedScript: KEYS unfinished; ARGV retention ms. It drops the ids
// whose records expired and returns the rest.
var unfinishedScript = redis.NewScript(luaNow + `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[1])))
return redis.call('ZRANGE', KEYS[1], 0, -1)
`)

// heartbeatScript: KEYS members; ARGV member, ttl ms.
var heartbeatScript = redis.NewScript(luaNow + `
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
`)

// membersScript: KEYS members. It drops expired members, returns the rest.
var membersScript = redis.NewScript(luaNow + `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)
`)

func (r *Redis) matchKeys(matchID string) []string {
	return []string{r.prefix + "match:" + matchID, r.prefix + "unfinished"}
}

// Claim implements Store.
func (r *Redis) Claim(ctx context.Context, matchID, owner string, ttl time.Duration) (int, bool, error) {
	if err := checkClaim(matchID, owner, ttl); err != nil {
		return 0, false, err
	}
	res, err := claimScript.Run(ctx, r.client.Load(), r.matchKeys(matchID), matchID, owner, max(ttl.Milliseconds(), 1), r.retention.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, false, r.fail("claim match "+matchID, err)
	}
	if len(res) != 2 {
		return 0, false, fmt.Errorf("claim match %s on %s: unexpected reply %v", matchID, r.conn.Addr, res)
	}
	return int(res[1]), res[0] == 1, nil
}

// Progress implements Store.
func (r *Redis) Progress(ctx context.Context, matchID, owner string, framesDone int) error {
	if err := checkProgress(matchID, owner, framesDone); err != nil {
		return err
	}
	res := progressScript.Run(ctx, r.client.Load(), r.matchKeys(matchID), matchID, owner, framesDone, r.retention.Milliseconds())
	return r.leaseReply("progress match "+matchID, owner, res)
}

// Release implements Store.
func (r *Redis) Release(ctx context.Context, matchID, owner string) error {
	if err := checkMatch("release", matchID, owner); err != nil {
		return err
	}
	res := releaseScript.Run(ctx, r.client.Load(), r.matchKeys(matchID), matchID, owner, r.retention.Milliseconds())
	return r.leaseReply("release match "+matchID, owner, res)
}

// Finish implements Store.
func (r *Redis) Finish(ctx context.Context, matchID, owner string, outcome Outcome) error {
	if err := checkFinish(matchID, owner, outcome); err != nil {
		return err
	}
	res := finishScript.Run(ctx, r.client.Load(), r.matchKeys(matchID), matchID, owner, outcome.String(), r.retention.Milliseconds())
	return r.leaseReply("finish match "+matchID, owner, res)
}

// leaseReply turns the {ok, recorded owner} reply of progressScript,
// releaseScript and finishScript into nil or an error.
func (r *Redis) leaseReply(op, owner string, res *redis.Cmd) error {
	vals, err := res.Slice()
	if err != nil {
		return r.fail(op, err)
	}
	if len(vals) != 2 {
		return fmt.Errorf("%s on %s: unexpected reply %v", op, r.conn.Addr, vals)
	}
	if ok, _ := vals[0].(int64); ok == 1 {
		return nil
	}
	if holder, _ := vals[1].(string); holder != "" {
		return fmt.Errorf("%s as %s: %w to %s", op, owner, ErrLeaseLost, holder)
	}
	return fmt.Errorf("%s as %s: %w", op, owner, ErrLeaseLost)
}

// Status implements Store.
func (r *Redis) Status(ctx context.Context, matchID string) (MatchStatus, error) {
	h, err := r.client.Load().HGetAll(ctx, r.prefix+"match:"+matchID).Result()
	if err != nil {
		return MatchStatus{}, r.fail("status of match "+matchID, err)
	}
	if len(h) == 0 {
		return MatchStatus{}, nil
	}
	st := MatchStatus{Phase: Claimed, Owner: h["owner"]}
	var errs []error
	num := func(field string) int64 {
		n, err := strconv.ParseInt(h[field], 10, 64)
		if err != nil && h[field] != "" {
			errs = append(errs, fmt.Errorf("field %s: %w", field, err))
		}
		return n
	}
	st.FramesDone = int(num("frames"))
	st.UpdatedAt = time.UnixMilli(num("at"))
	st.FirstClaimed = time.UnixMilli(num("first"))
	if name, ok := h["outcome"]; ok {
		st.Phase = Finished
		if st.Outcome, ok = parseOutcome(name); !ok {
			errs = append(errs, fmt.Errorf("field outcome: unknown %q", name))
		}
	} else if until := num("until"); until > 0 {
		st.LeaseExpires = time.UnixMilli(until)
	}
	if err := errors.Join(errs...); err != nil {
		return MatchStatus{}, fmt.Errorf("status of match %s on %s: corrupt record: %w", matchID, r.conn.Addr, err)
	}
	return st, nil
}

// Unfinished implements Store.
func (r *Redis) Unfinished(ctx context.Context) ([]string, error) {
	ids, err := unfinishedScript.Run(ctx, r.client.Load(), []string{r.prefix + "unfinished"}, r.retention.Milliseconds()).StringSlice()
	if err != nil {
		return nil, r.fail("list unfinished matches", err)
	}
	slices.Sort(ids)
	return ids, nil
}

func (r *Redis) puuidKey(platform, riotID string) string {
	return r.prefix + "puuid:" + platform + ":" + riotID
}

// PUUID implements Store.
func (r *Redis) PUUID(ctx context.Context, platform, riotID string) (string, time.Time, bool, error) {
	op := fmt.Sprintf("puuid of %s on %s", riotID, platform)
	v, err := r.client.Load().Get(ctx, r.puuidKey(platform, riotID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, r.fail(op, err)
	}
	// The value is "<resolved at, Unix ms> <puuid>".
	ms, puuid, ok := strings.Cut(v, " ")
	at, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil {
		return "", time.Time{}, false, fmt.Errorf("%s on %s: corrupt record %q", op, r.conn.Addr, v)
	}
	return puuid, time.UnixMilli(at), true, nil
}

// SetPUUID implements Store.
func (r *Redis) SetPUUID(ctx context.Context, platform, riotID, puuid string, at time.Time) error {
	if platform == "" || riotID == "" || puuid == "" {
		return fmt.Errorf("set puuid of %q on %q: empty platform, riot id or puuid", riotID, platform)
	}
	v := strconv.FormatInt(at.UnixMilli(), 10) + " " + puuid
	if err := r.client.Load().Set(ctx, r.puuidKey(platform, riotID), v, r.retention).Err(); err != nil {
		return r.fail(fmt.Sprintf("set puuid of %s on %s", riotID, platform), err)
	}
	return nil
}

// LiveGame implements Store.
func (r *Redis) LiveGame(ctx context.Context, puuid string) (int64, bool, error) {
	v, err := r.client.Load().Get(ctx, r.prefix+"live:"+puuid).Result()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, r.fail("live game of "+puuid, err)
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("live game of %s on %s: corrupt record %q", puuid, r.conn.Addr, v)
	}
	return id, true, nil
}

// SetLiveGame implements Store.
func (r *Redis) SetLiveGame(ctx context.Context, puuid string, gameID int64) error {
	if puuid == "" {
		return errors.New("set live game: empty puuid")
	}
	if err := r.client.Load().Set(ctx, r.prefix+"live:"+puuid, gameID, r.retention).Err(); err != nil {
		return r.fail("set live game of "+puuid, err)
	}
	return nil
}

// ClearLiveGame implements Store.
func (r *Redis) ClearLiveGame(ctx context.Context, puuid string) error {
	if err := r.client.Load().Del(ctx, r.prefix+"live:"+puuid).Err(); err != nil {
		return r.fail("clear live game of "+puuid, err)
	}
	return nil
}

func (r *Redis) liveCursorKey(key string) string {
	return r.prefix + "livecursor:" + key
}

// maxLiveCursorValue bounds a live cursor's value: the longest the store
// writes is 10 digits, a space and a float64's shortest form (at most 24
// bytes).
const maxLiveCursorValue = 64

// LiveCursor implements Store. The value is "<next> <game time>", decimal,
// the game time in Go's shortest 'g' form ("12 754.321").
func (r *Redis) LiveCursor(ctx context.Context, key string) (int, float64, bool, error) {
	if err := CheckLiveCursorKey(key); err != nil {
		return 0, 0, false, err
	}
	op := fmt.Sprintf("live cursor %q", key)
	v, err := r.client.Load().Get(ctx, r.liveCursorKey(key)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return 0, 0, false, nil
	case redis.HasErrorPrefix(err, "WRONGTYPE"):
		return 0, 0, false, fmt.Errorf("%s on %s: %w: not a string: %w", op, r.conn.Addr, ErrCorruptRecord, err)
	case err != nil:
		return 0, 0, false, r.fail(op, err)
	}
	next, gameTime, err := parseLiveCursor(v)
	if err != nil {
		return 0, 0, false, fmt.Errorf("%s on %s: %w", op, r.conn.Addr, err)
	}
	return next, gameTime, true, nil
}

func parseLiveCursor(v string) (int, float64, error) {
	if len(v) > maxLiveCursorValue {
		return 0, 0, fmt.Errorf("%w %s", ErrCorruptRecord, quoteBounded(v))
	}
	n, t, ok := strings.Cut(v, " ")
	next, errN := strconv.ParseInt(n, 10, 64)
	gameTime, errT := strconv.ParseFloat(t, 64)
	if !ok || errN != nil || errT != nil {
		return 0, 0, fmt.Errorf("%w %s", ErrCorruptRecord, quoteBounded(v))
	}
	if err := checkLiveCursor(next, gameTime); err != nil {
		return 0, 0, fmt.Errorf("%w %s: %w", ErrCorruptRecord, quoteBounded(v), err)
	}
	return int(next), plainZero(gameTime), nil
}

// SetLiveCursor implements Store.
func (r *Redis) SetLiveCursor(ctx context.Context, key string, next int, gameTime float64) error {
	if err := checkSetLiveCursor(key, next, gameTime); err != nil {
		return err
	}
	v := strconv.Itoa(next) + " " + strconv.FormatFloat(plainZero(gameTime), 'g', -1, 64)
	if err := r.client.Load().Set(ctx, r.liveCursorKey(key), v, r.retention).Err(); err != nil {
		return r.fail(fmt.Sprintf("set live cursor %q", key), err)
	}
	return nil
}

// Heartbeat implements Membership.
func (r *Redis) Heartbeat(ctx context.Context, member string, ttl time.Duration) error {
	if member == "" || ttl <= 0 {
		return fmt.Errorf("heartbeat of %q for %v: empty member or non-positive ttl", member, ttl)
	}
	err := heartbeatScript.Run(ctx, r.client.Load(), []string{r.prefix + "members"}, member, max(ttl.Milliseconds(), 1)).Err()
	if err != nil {
		return r.fail("heartbeat of "+member, err)
	}
	return nil
}

// Members implements Membership.
func (r *Redis) Members(ctx context.Context) ([]string, error) {
	m, err := membersScript.Run(ctx, r.client.Load(), []string{r.prefix + "members"}).StringSlice()
	if err != nil {
		return nil, r.fail("list members", err)
	}
	slices.Sort(m)
	return m, nil
}

// Leave implements Membership.
func (r *Redis) Leave(ctx context.Context, member string) error {
	if err := r.client.Load().ZRem(ctx, r.prefix+"members", member).Err(); err != nil {
		return r.fail("leave as "+member, err)
	}
	return nil
}

// Close implements Store. It leaves the connection to its owner: later
// calls go to a client closed from the start, so they fail with ErrClosed.
func (r *Redis) Close() error {
	closed := redis.NewClient(&redis.Options{})
	_ = closed.Close()
	r.client.Store(closed)
	return nil
}

// fail wraps an error of the client from op with the URL, and with
// ErrUnavailable when Redis could not be reached or could not serve.
func (r *Redis) fail(op string, err error) error {
	if errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("%s on %s: %w", op, r.conn.Addr, ErrClosed)
	}
	return r.conn.Fail(op, err)
}
