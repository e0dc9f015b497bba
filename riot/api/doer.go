// Package api is riftbridge's client of the Riot web API: one Doer that
// routes, rate-limits and retries every request, and the calls riftbridge
// makes through it.
package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/ratelimit"
)

// ErrKeyRejected is returned for 401 and 403: the key is missing, invalid,
// expired (development keys last 24 h) or blacklisted. Retrying cannot help.
var ErrKeyRejected = errors.New("riot api key invalid or expired")

// ErrUntrusted is returned for an answer riftbridge will not use: a
// redirect, which would carry the key to another host if followed, or a
// body over MaxBody. Asking again gets the same answer.
var ErrUntrusted = errors.New("refused riot answer")

// MaxBody caps every Riot body read: a timeline, the largest, is about
// 1.5 MB, and a hostile or broken server must not make riftbridge buffer
// gigabytes.
const MaxBody = 16 << 20

// StatusError is a 429 or 5xx that outlived every retry.
type StatusError struct {
	Endpoint string
	Route    string
	Status   int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s on %s: http %d after retries", e.Endpoint, e.Route, e.Status)
}

// Doer is the one http Doer under every Riot call, golio's and riftbridge's
// own. It routes each request to the right platform or regional host, paces
// it within the key's application and method limits, retries 429s and 5xx
// with capped backoff, and buffers and closes every body (golio never
// closes them). It never hands a 429 to golio, whose own handling retries
// without a cap. It is safe for concurrent use.
type Doer struct {
	key        string
	base       string
	hc         *http.Client
	limiter    ratelimit.Reserver
	maxRetries int
	backoff    func(attempt int) time.Duration
	set        telemetry.Settings

	backoffBase, backoffMax time.Duration
}

// Option configures a Doer.
type Option func(*Doer)

// WithBaseURL sends requests to base, a template holding {route}, such as
// "http://127.0.0.1:9000/{route}" for a proxy or a test server. Default:
// riot.DefaultBaseURL.
func WithBaseURL(base string) Option { return func(d *Doer) { d.base = base } }

// WithHTTPClient sends requests through c, which never follows a redirect
// whatever its CheckRedirect. Default: NewHTTPClient(10 s).
func WithHTTPClient(c *http.Client) Option { return func(d *Doer) { d.hc = c } }

// WithLimiter paces requests through l: the in-memory *ratelimit.Limiter,
// or the Redis-backed *ratelimit.Shared that replicas share. Default: an
// in-memory limiter with the development key's limits.
func WithLimiter(l ratelimit.Reserver) Option { return func(d *Doer) { d.limiter = l } }

// WithMaxRetries caps retries of 429s, 5xx and transport errors. Default: 3.
func WithMaxRetries(n int) Option { return func(d *Doer) { d.maxRetries = n } }

// WithBackoff bounds the exponential backoff used when Riot gives no
// Retry-After. Default: 1 s to 16 s.
func WithBackoff(base, limit time.Duration) Option {
	return func(d *Doer) { d.backoffBase, d.backoffMax = base, limit }
}

// NewDoer checks the options and builds a Doer sending key.
func NewDoer(key string, set telemetry.Settings, opts ...Option) (*Doer, error) {
	d := &Doer{key: key, base: riot.DefaultBaseURL, maxRetries: 3, set: set.Defaults()}
	for _, o := range opts {
		o(d)
	}
	if d.key == "" {
		return nil, errors.New("riot api: no key")
	}
	if err := riot.CheckBaseURL(d.base); err != nil {
		return nil, err
	}
	d.base = strings.TrimSuffix(d.base, "/")
	if d.hc == nil {
		d.hc = NewHTTPClient(10 * time.Second)
	}
	// Go strips Authorization and Cookie on a redirect to another host, not
	// X-Riot-Token: a redirect is never followed, whoever built the client.
	hc := *d.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	d.hc = &hc
	if d.limiter == nil {
		d.limiter = ratelimit.New(d.set)
	}
	d.backoff = backoff(d.backoffBase, d.backoffMax)
	return d, nil
}

// NewHTTPClient returns a client for the Riot API that keeps enough idle
// connections per host for polling bursts: Go's default of two would open a
// new TLS connection for most requests of a burst, and a slow first request
// can land in a later rate-limit window than the limiter counted it in. It
// opens no more than that many per host either: the start of a thousand
// players would otherwise open a thousand TLS connections at once, tens of
// kB each, for requests the rate limit spaces out anyway.
func NewHTTPClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = maxConnsPerHost
	t.MaxConnsPerHost = maxConnsPerHost
	return &http.Client{Timeout: timeout, Transport: t}
}

const maxConnsPerHost = 32

// backoff is capped exponential backoff with jitter: a random wait in
// [base·2^attempt, 1.5·base·2^attempt), never above limit. Riot asks for at
// least a second after an untyped 429, hence base ≥ 1 s by default.
func backoff(base, limit time.Duration) func(int) time.Duration {
	if base <= 0 {
		base = time.Second
	}
	if limit <= 0 {
		limit = 16 * time.Second
	}
	return func(attempt int) time.Duration {
		d := base << min(attempt, 30)
		if d > limit || d <= 0 {
			d = limit
		}
		return min(d+rand.N(d/2+1), limit)
	}
}

// Do sends req to the route its path and context call for. A 401 or 403
// ends in ErrKeyRejected; a 429 or 5xx that outlives MaxRetries in a
// *StatusError; every other response comes back with its body buffered.
func (d *Doer) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	ep, err := classify(req.URL.Path)
	if err != nil {
		return nil, err
	}
	route, err := ep.route(req.URL, platformFrom(ctx))
	if err != nil {
		return nil, err
	}
	target, err := url.Parse(strings.ReplaceAll(d.base, "{route}", route) + req.URL.EscapedPath())
	if err != nil {
		return nil, fmt.Errorf("%s: build url: %w", ep.name, err)
	}
	target.RawQuery = req.URL.RawQuery

	for attempt := 0; ; attempt++ {
		resp, next, err := d.try(ctx, req, target, ep.name, route)
		if next == final || attempt >= d.maxRetries {
			if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) {
				return nil, &StatusError{Endpoint: ep.name, Route: route, Status: resp.StatusCode}
			}
			return resp, err
		}
		d.set.Observer.Retried(ep.name)
		if next == retryAfterBackoff {
			if err := d.sleep(ctx, d.backoff(attempt)); err != nil {
				return nil, fmt.Errorf("%s on %s: %w", ep.name, route, err)
			}
		}
	}
}

// outcome is what Do does after an attempt.
type outcome int

const (
	final             outcome = iota // resp or err is the answer
	retryNow                         // the limiter already holds the retry until Retry-After
	retryAfterBackoff                // back off exponentially, then retry
)

// try makes one attempt: it waits for budget, sends, buffers the body and
// feeds the response back to the limiter.
func (d *Doer) try(ctx context.Context, orig *http.Request, target *url.URL, endpoint, route string) (*http.Response, outcome, error) {
	res, err := d.limiter.Wait(ctx, route, endpoint)
	if err != nil {
		return nil, final, fmt.Errorf("%s on %s: rate limit wait: %w", endpoint, route, err)
	}
	defer res.Cancel()
	if w := res.Waited(); w > 0 {
		d.set.Observer.Waited(endpoint, w)
	}

	req := orig.Clone(ctx)
	req.URL = target
	req.Host = ""
	req.Header.Set("X-Riot-Token", d.key)
	start := d.set.Clock.Now()
	resp, err := d.hc.Do(req)
	if err != nil {
		d.set.Observer.Request(endpoint, route, 0, d.set.Clock.Since(start))
		if ctx.Err() != nil {
			return nil, final, fmt.Errorf("%s on %s: %w", endpoint, route, ctx.Err())
		}
		// The error may quote the URL but never the key, which rides in a header.
		return nil, retryAfterBackoff, fmt.Errorf("%s on %s: %w", endpoint, route, err)
	}
	var body []byte
	tooLarge := resp.ContentLength > MaxBody // announced: refused unread
	if !tooLarge {
		body, err = io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
		tooLarge = len(body) > MaxBody
	}
	resp.Body.Close()
	d.set.Observer.Request(endpoint, route, resp.StatusCode, d.set.Clock.Since(start))
	if err != nil {
		return nil, retryAfterBackoff, fmt.Errorf("%s on %s: read body: %w", endpoint, route, err)
	}
	if tooLarge {
		res.Done(resp.StatusCode, resp.Header)
		return nil, final, fmt.Errorf("%s on %s: %w: body over %d MiB", endpoint, route, ErrUntrusted, MaxBody>>20)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		res.Done(resp.StatusCode, resp.Header)
		return nil, final, fmt.Errorf("%s on %s: %w: http %d redirect to %s, not followed so the key stays with riot",
			endpoint, route, ErrUntrusted, resp.StatusCode, redirectHost(resp))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))

	var throttled *ratelimit.ThrottleError
	switch done := res.Done(resp.StatusCode, resp.Header); {
	case errors.As(done, &throttled):
		d.set.Observer.Throttled(endpoint, route, throttled.Type, throttled.RetryAfter)
		if throttled.Paced {
			return resp, retryNow, nil
		}
		return resp, retryAfterBackoff, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, final, fmt.Errorf("%s on %s: http %d: %w", endpoint, route, resp.StatusCode, ErrKeyRejected)
	case resp.StatusCode >= 500:
		return resp, retryAfterBackoff, nil
	}
	return resp, final, nil
}

// redirectHost names where a redirect points, without its path or query.
func redirectHost(resp *http.Response) string {
	u, err := resp.Location()
	if err != nil {
		return "nowhere"
	}
	return u.Scheme + "://" + u.Host
}

func (d *Doer) sleep(ctx context.Context, dur time.Duration) error {
	t := d.set.Clock.NewTimer(dur)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.Chan():
		return nil
	}
}
