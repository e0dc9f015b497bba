package ratelimit

import (
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riftbridge/riftbridge/riot"

	"github.com/redis/go-redis/v9"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/state/redisconn"
)

// DefaultPrefix is the default WithPrefix.
const DefaultPrefix = "riftbridge:ratelimit:"

const (
	// heldFor is how long a permit counts as in flight, and a probe holds its
	// method, when its replica never finishes it (it died): longer than any
	// request the Doer sends.
	heldFor = 15 * time.Second
	// probePoll is how soon a waiter first asks again while another
	// replica's probe is out, doubling up to maxProbePoll; Redis cannot wake
	// it.
	probePoll    = 20 * time.Millisecond
	maxProbePoll = 320 * time.Millisecond
	// updateTimeout bounds Done and Cancel, which take no context.
	updateTimeout = 2 * time.Second
)

// Scripts run atomically in Redis; see the comments inside them.
var (
	//go:embed reserve.lua
	reserveSource string
	//go:embed finish.lua
	finishSource string

	reserveScript = redis.NewScript(reserveSource)
	finishScript  = redis.NewScript(finishSource)
)

var (
	_ Reserver = (*Shared)(nil)
	_ Permit   = (*sharedPermit)(nil)
)

// WithPrefix sets the prefix of Shared's Redis keys. Replicas share a budget
// exactly when they share Redis and prefix, so replicas using different API
// keys need different prefixes. Limiter ignores it. Default: DefaultPrefix.
func WithPrefix(prefix string) Option {
	return func(cfg *config) { cfg.prefix = prefix }
}

// Shared is a Reserver whose windows live in Redis, so replicas of
// riftbridge that share an API key share one budget: the Limiter's semantics
// with every count, limit, Retry-After and probe kept in Redis and checked
// and taken by one Lua script. It is safe for concurrent use.
//
// Every key of a route carries the route as its hash tag, so Redis Cluster
// keeps them on the one node that a script touching them needs.
type Shared struct {
	config
	conn        *redisconn.Conn
	client      *redis.Client
	defaultSpec string // the application defaults as the scripts read them
	id          string // this replica, in tokens
	seq         atomic.Uint64
	down        atomic.Bool // the last Redis call failed

	mu sync.Mutex
	// wake is closed, then replaced, when a probe of this replica ends or
	// limits change, so local waiters retry at once.
	wake chan struct{}
}

// NewShared returns a Shared on conn, which it shares and does not close.
// It does not connect: Wait reports an unreachable Redis.
func NewShared(conn *redisconn.Conn, set telemetry.Settings, opts ...Option) *Shared {
	s := &Shared{
		config: newConfig(set, opts),
		conn:   conn,
		client: conn.Client,
		id:     rand.Text(),
		wake:   make(chan struct{}),
	}
	s.defaultSpec = s.spec(s.defaults)
	return s
}

// Wait implements Reserver. While another replica's probe is out Wait asks
// Redis again after 20 ms, backing off to 320 ms; a probe of this replica
// wakes it.
// Errors from Redis wrap redisconn.ErrUnavailable and name its address.
func (s *Shared) Wait(ctx context.Context, route, method string) (Permit, error) {
	start := s.clock.Now()
	keys := s.keys(route, method)
	token := s.id + ":" + strconv.FormatUint(s.seq.Add(1), 36)
	poll := probePoll
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("rate limit %s %s: %w", route, method, err)
		}
		wake := s.wakeChan()
		v, err := reserveScript.Run(ctx, s.client, keys, s.defaultSpec, token, heldFor.Milliseconds()).Int64Slice()
		if err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			} else {
				err = s.failed(err)
			}
			return nil, fmt.Errorf("rate limit %s %s: %w", route, method, err)
		}
		s.reached()
		if len(v) != 3 {
			return nil, fmt.Errorf("rate limit %s %s: %w: reserve script returned %v", route, method, redisconn.ErrUnavailable, v)
		}
		delay := time.Duration(v[1]) * time.Millisecond
		switch v[0] {
		case reserved:
			return &sharedPermit{s: s, route: route, method: method, keys: keys, token: token,
				at: v[1], probe: v[2] == 1, waited: s.clock.Now().Sub(start)}, nil
		case probing:
			// Back off: at a fleet's cold start every player loop waits
			// on the same few probes, and each ask is a script run.
			delay = min(delay, poll)
			poll = min(2*poll, maxProbePoll)
		case blocked:
		default:
			return nil, fmt.Errorf("rate limit %s %s: %w: reserve script returned %v", route, method, redisconn.ErrUnavailable, v)
		}
		if err := s.sleep(ctx, delay, wake); err != nil {
			return nil, fmt.Errorf("rate limit %s %s: %w", route, method, err)
		}
	}
}

// The reserve script's verdicts.
const (
	blocked  = 0 // a window is full or a Retry-After runs: wait v[1] ms
	reserved = 1 // counted at v[1] ms, Redis time; a probe when v[2] is 1
	probing  = 2 // another request probes the method; it expires in v[1] ms
)

// keys are the base keys of route's application limit and of method on it.
// The scripts add suffixes: :limits, :block, :inflight, :probe, :w:<seconds>.
func (s *Shared) keys(route, method string) []string {
	base := s.prefix + "{" + route + "}:"
	return []string{base + "app", base + "method:" + method}
}

func (s *Shared) wakeChan() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wake
}

func (s *Shared) broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.wake)
	s.wake = make(chan struct{})
}

// failed wraps a Redis error, in redisconn.ErrUnavailable when Redis is out of reach, and logs the first of a run of
// failures.
func (s *Shared) failed(err error) error {
	if s.down.CompareAndSwap(false, true) {
		s.log.Warn("shared rate limiter cannot use redis; requests wait for it", "redis", s.conn.Addr, "error", err)
	}
	return s.conn.Fail("rate limit", err)
}

func (s *Shared) reached() {
	if s.down.Load() && s.down.CompareAndSwap(true, false) {
		s.log.Info("shared rate limiter reached redis again", "redis", s.conn.Addr)
	}
}

// spec writes limits as the scripts read them, "count:seconds:spanMillis,…",
// the span being the window plus padding.
func (s *Shared) spec(limits []riot.Limit) string {
	var b strings.Builder
	for i, l := range limits {
		if i > 0 {
			b.WriteByte(',')
		}
		span := l.Window + Padding(l.Window)
		fmt.Fprintf(&b, "%d:%d:%d", l.Count, int64(l.Window/time.Second), span.Milliseconds())
	}
	return b.String()
}

// observed reads one limit and count header pair for the finish script: the
// limits as a spec and the counts as sent, both empty when Riot sent no
// limits or either header is malformed.
func (s *Shared) observed(limitHeader, countHeader, route, method string) (spec, counts string) {
	if limitHeader == "" {
		return "", ""
	}
	limits, err := riot.ParseLimits(limitHeader)
	if err == nil {
		_, err = riot.ParseCounts(countHeader)
	}
	if err != nil {
		s.log.Debug("ignoring malformed rate limit header", "route", route, "method", method, "error", err)
		return "", ""
	}
	return s.spec(limits), countHeader
}

// sharedPermit is Shared's Permit.
type sharedPermit struct {
	s             *Shared
	route, method string
	keys          []string
	token         string
	at            int64 // when Redis counted the request, in ms of its clock
	probe         bool
	waited        time.Duration
	closed        atomic.Bool
}

func (p *sharedPermit) Waited() time.Duration { return p.waited }

// Done implements Permit. Besides a *ThrottleError it may return an error
// wrapping redisconn.ErrUnavailable when Redis could not be updated; a 429's
// ThrottleError is then not Paced, since no one holds the retry back.
func (p *sharedPermit) Done(status int, h http.Header) error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	s := p.s
	appSpec, appCounts := s.observed(h.Get(headerAppLimit), h.Get(headerAppCount), p.route, p.method)
	methodSpec, methodCounts := s.observed(h.Get(headerMethodLimit), h.Get(headerMethodCount), p.route, p.method)
	var (
		throttled *ThrottleError
		block     string // which budget Retry-After blocks: "app", "method" or none
		blockFor  time.Duration
	)
	if status == http.StatusTooManyRequests {
		throttled = &ThrottleError{Route: p.route, Method: p.method, Type: h.Get(headerLimitType)}
		throttled.RetryAfter, throttled.Asked, throttled.Paced = retryAfter(h.Get(headerRetryAfter), s.clock.Now())
		if throttled.Paced && throttled.RetryAfter > 0 {
			block, blockFor = "method", throttled.RetryAfter
			if throttled.Type == typeApplication {
				block = "app"
			}
		}
	}
	changed, err := p.finish(appSpec, appCounts, methodSpec, methodCounts, block, blockFor)
	if changed&1 != 0 {
		s.log.Debug("application rate limit changed", "route", p.route, "limit", h.Get(headerAppLimit))
	}
	if changed&2 != 0 {
		s.log.Debug("method rate limit changed", "route", p.route, "method", p.method, "limit", h.Get(headerMethodLimit))
	}
	if throttled == nil {
		return err
	}
	if err != nil {
		throttled.Paced = false
	}
	logThrottle(s.log, throttled)
	if err != nil {
		return errors.Join(throttled, err)
	}
	return throttled
}

// Cancel implements Permit.
func (p *sharedPermit) Cancel() {
	if !p.closed.CompareAndSwap(false, true) {
		return
	}
	// On failure the probe and the in-flight mark expire after heldFor.
	_, _ = p.finish("", "", "", "", "", 0)
}

// finish runs the finish script: it takes the permit out of flight, frees
// its probe and applies what the response said. changed has bit 0 set when
// the application limits changed and bit 1 for the method's.
func (p *sharedPermit) finish(appSpec, appCounts, methodSpec, methodCounts, block string, blockFor time.Duration) (changed int64, err error) {
	s := p.s
	ctx, cancel := context.WithTimeout(context.Background(), updateTimeout)
	defer cancel()
	probe := 0
	if p.probe {
		probe = 1
	}
	changed, err = finishScript.Run(ctx, s.client, p.keys, p.token, p.at, probe,
		appSpec, appCounts, methodSpec, methodCounts, block, blockFor.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("rate limit %s %s: update: %w", p.route, p.method, s.failed(err))
	}
	s.reached()
	if p.probe || changed != 0 {
		s.broadcast()
	}
	return changed, nil
}
