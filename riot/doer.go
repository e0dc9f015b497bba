package riot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/riot/ratelimit"
)

// DefaultBaseURL is Riot's host template; {route} becomes a platform (kr,
// euw1) or a regional cluster (asia, europe).
const DefaultBaseURL = "https://{route}.api.riotgames.com"

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

// Observer receives the Doer's self-telemetry. Implementations must be safe
// for concurrent use and fast: they run on the request path.
type Observer interface {
	// Request reports one HTTP exchange; status is 0 for a transport error.
	Request(endpoint, route string, status int, latency time.Duration)
	// Throttled reports a 429 on route by X-Rate-Limit-Type ("" when
	// untyped), and the wait it imposes (0 without Retry-After).
	Throttled(endpoint, route, limitType string, wait time.Duration)
	// Waited reports time spent waiting for rate-limit budget.
	Waited(endpoint string, d time.Duration)
	// Retried reports a retry after a 429, a 5xx or a transport error.
	Retried(endpoint string)
}

// DoerOptions configures a Doer. Only APIKey is required.
type DoerOptions struct {
	APIKey string
	// BaseURL is a template holding {route}; DefaultBaseURL when empty. For a
	// proxy or a test server: "http://127.0.0.1:9000/{route}".
	BaseURL string
	// HTTPClient sends requests; a client with a 10 s timeout when nil.
	HTTPClient *http.Client
	// Limiter paces requests: the in-memory *ratelimit.Limiter, or the
	// Redis-backed *ratelimit.Shared that replicas share; development-key
	// defaults when nil.
	Limiter ratelimit.Reserver
	// MaxRetries caps retries of 429s, 5xx and transport errors; 3 when 0.
	MaxRetries int
	// BackoffBase and BackoffMax bound the exponential backoff used when Riot
	// gives no Retry-After; 1 s and 16 s when 0.
	BackoffBase, BackoffMax time.Duration
	Observer                Observer
	Clock                   clockwork.Clock
	Logger                  *slog.Logger
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
	obs        Observer
	clock      clockwork.Clock
	log        *slog.Logger
}

// NewDoer checks the options and builds a Doer.
func NewDoer(o DoerOptions) (*Doer, error) {
	if o.APIKey == "" {
		return nil, errors.New("riot: no api key (set riot.api_key, RIOT_API_KEY or riot.api_key_file)")
	}
	base := o.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if err := CheckBaseURL(base); err != nil {
		return nil, err
	}
	d := &Doer{
		key:        o.APIKey,
		base:       strings.TrimSuffix(base, "/"),
		hc:         o.HTTPClient,
		limiter:    o.Limiter,
		maxRetries: o.MaxRetries,
		obs:        o.Observer,
		clock:      o.Clock,
		log:        o.Logger,
	}
	if d.hc == nil {
		d.hc = NewHTTPClient(10 * time.Second)
	}
	// Go strips Authorization and Cookie on a redirect to another host, not
	// X-Riot-Token: a redirect is never followed, whoever built the client.
	hc := *d.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	d.hc = &hc
	if d.clock == nil {
		d.clock = clockwork.NewRealClock()
	}
	if d.limiter == nil {
		d.limiter = ratelimit.New(ratelimit.WithClock(d.clock), ratelimit.WithLogger(d.log))
	}
	if d.maxRetries == 0 {
		d.maxRetries = 3
	}
	if d.obs == nil {
		d.obs = nopObserver{}
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.backoff = backoff(o.BackoffBase, o.BackoffMax)
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

// CheckBaseURL reports whether base is a usable host template.
func CheckBaseURL(base string) error {
	if !strings.Contains(base, "{route}") {
		return fmt.Errorf("riot base url %q: must contain {route}", base)
	}
	u, err := url.Parse(strings.ReplaceAll(base, "{route}", "kr"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("riot base url %q: must be an http(s) url such as %s", base, DefaultBaseURL)
	}
	return nil
}

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
		d.obs.Retried(ep.name)
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
		d.obs.Waited(endpoint, w)
	}

	req := orig.Clone(ctx)
	req.URL = target
	req.Host = ""
	req.Header.Set("X-Riot-Token", d.key)
	start := d.clock.Now()
	resp, err := d.hc.Do(req)
	if err != nil {
		d.obs.Request(endpoint, route, 0, d.clock.Since(start))
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
	d.obs.Request(endpoint, route, resp.StatusCode, d.clock.Since(start))
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
		d.obs.Throttled(endpoint, route, throttled.Type, throttled.RetryAfter)
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
	t := d.clock.NewTimer(dur)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.Chan():
		return nil
	}
}

type nopObserver struct{}

func (nopObserver) Request(string, string, int, time.Duration)      {}
func (nopObserver) Throttled(string, string, string, time.Duration) {}
func (nopObserver) Waited(string, time.Duration)                    {}
func (nopObserver) Retried(string)                                  {}
