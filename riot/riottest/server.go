// Package riottest serves a loopback Riot API that enforces Riot's routing,
// authentication and rate-limit rules, so tests catch clients that break them.
package riottest

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Endpoint names a Riot API method, as Riot's method ids do.
type Endpoint string

// The endpoints the server serves.
const (
	EndpointAccount   Endpoint = "account-v1.getByRiotId"
	EndpointSpectator Endpoint = "spectator-v5.getCurrentGameInfoByPuuid"
	EndpointMatchIDs  Endpoint = "match-v5.getMatchIdsByPUUID"
	EndpointMatch     Endpoint = "match-v5.getMatch"
	EndpointTimeline  Endpoint = "match-v5.getTimeline"
)

// endpointPaths are the Riot paths after /{route}/; "*" is one path segment.
var endpointPaths = []struct {
	endpoint Endpoint
	segments []string
}{
	{EndpointAccount, strings.Split("riot/account/v1/accounts/by-riot-id/*/*", "/")},
	{EndpointSpectator, strings.Split("lol/spectator/v5/active-games/by-summoner/*", "/")},
	{EndpointMatchIDs, strings.Split("lol/match/v5/matches/by-puuid/*/ids", "/")},
	{EndpointMatch, strings.Split("lol/match/v5/matches/*", "/")},
	{EndpointTimeline, strings.Split("lol/match/v5/matches/*/timeline", "/")},
}

// servedOn reports whether Riot serves ep on the routing value route.
func servedOn(ep Endpoint, route string) bool {
	switch ep {
	case EndpointAccount:
		return isRegion(route) && route != "sea" // account-v1 has no sea cluster
	case EndpointSpectator:
		return isPlatform(route)
	default:
		return isRegion(route)
	}
}

// DefaultKey is the API key a server accepts unless WithKey sets another.
const DefaultKey = "RGAPI-00000000-0000-0000-0000-riottest0000"

// Server is a Riot API on a loopback httptest server. Requests arrive as
// /{route}/{riot path}. It is safe for concurrent use.
//
// Only one key is valid, so the application limits apply per routing value
// and the method limits per routing value and endpoint.
//
// Every request is counted in Stats. Requests without a valid key (401/403)
// and requests for a resource Riot does not serve on that host (403/404) are
// rejected before rate limiting, like Riot's gateway does, and carry no
// rate-limit headers. Every other request counts against its application and
// method limits, even when it is rejected with a 429, because Riot's counts
// keep rising past the limit; its response carries the four X-*-Rate-Limit
// headers whatever the status.
type Server struct {
	ts           *httptest.Server
	clock        clockwork.Clock
	key          string
	appLimits    []Limit
	methodLimits map[Endpoint][]Limit

	mu          sync.Mutex
	expired     bool
	appBuckets  map[string]bucket
	methBuckets map[RouteEndpoint]bucket
	faults      []*Fault
	players     map[string]*player // by PUUID
	riotIDs     map[string]string  // riotIDKey → PUUID
	games       map[string]*game   // by match id
	gameSeq     int64
	stats       Stats
}

// Option configures a Server.
type Option func(*Server)

// WithKey sets the API key that X-Riot-Token must carry. Default: DefaultKey.
func WithKey(key string) Option { return func(s *Server) { s.key = key } }

// WithClock sets the server's clock. Default: real time.
func WithClock(c clockwork.Clock) Option { return func(s *Server) { s.clock = c } }

// WithAppLimits sets the application limits applied per routing value.
// Default: a development key's 20:1,100:120.
func WithAppLimits(limits ...Limit) Option {
	return func(s *Server) { s.appLimits = limits }
}

// WithMethodLimits sets ep's limits, applied per routing value. Defaults:
// account 1000:60, spectator 20000:10, match ids, match and timeline 2000:10.
func WithMethodLimits(ep Endpoint, limits ...Limit) Option {
	return func(s *Server) { s.methodLimits[ep] = limits }
}

// NewServer starts a server on a loopback port. Close it when done.
func NewServer(opts ...Option) *Server {
	s := &Server{
		clock:        clockwork.NewRealClock(),
		key:          DefaultKey,
		appLimits:    defaultAppLimits,
		methodLimits: make(map[Endpoint][]Limit, len(defaultMethodLimits)),
		appBuckets:   make(map[string]bucket),
		methBuckets:  make(map[RouteEndpoint]bucket),
		players:      make(map[string]*player),
		riotIDs:      make(map[string]string),
		games:        make(map[string]*game),
		stats:        newStats(),
	}
	for ep, limits := range defaultMethodLimits {
		s.methodLimits[ep] = limits
	}
	for _, opt := range opts {
		opt(s)
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close shuts the server down and waits for requests in flight. It is safe
// to call more than once.
func (s *Server) Close() { s.ts.Close() }

// URL is the server's root, e.g. "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.ts.URL }

// BaseURL is the template "http://127.0.0.1:PORT/{route}": replace {route}
// with a platform or regional routing value to get that host's base.
func (s *Server) BaseURL() string { return s.ts.URL + "/{route}" }

// Key returns the API key the server accepts.
func (s *Server) Key() string { return s.key }

// ExpireKey makes every later request fail with 403, as Riot does when a
// development key expires.
func (s *Server) ExpireKey() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expired = true
}

// request is a parsed Riot request.
type request struct {
	route    string
	endpoint Endpoint // "" when the path names no Riot resource
	args     []string // path parameters, unescaped
	query    url.Values
}

// parseRequest splits the escaped path so that an escaped "/" or "?" stays
// inside its segment: "a%2Fb" is one Riot ID name, not two segments.
func parseRequest(r *http.Request) request {
	segments := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	req := request{route: segments[0], query: r.URL.Query()}
	for _, p := range endpointPaths {
		if args, ok := matchSegments(p.segments, segments[1:]); ok {
			req.endpoint, req.args = p.endpoint, args
			break
		}
	}
	return req
}

// matchSegments matches escaped path segments against a pattern and returns
// the unescaped "*" segments.
func matchSegments(pattern, segments []string) ([]string, bool) {
	if len(pattern) != len(segments) {
		return nil, false
	}
	var args []string
	for i, want := range pattern {
		if want != "*" {
			if segments[i] != want {
				return nil, false
			}
			continue
		}
		arg, err := url.PathUnescape(segments[i])
		if err != nil {
			return nil, false
		}
		args = append(args, arg)
	}
	return args, true
}

// reply is a response decided under the lock and written after it.
type reply struct {
	status int
	header http.Header
	body   []byte
	// render, when set, produces the 200 body outside the lock.
	render func() ([]byte, error)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	req := parseRequest(r)
	s.mu.Lock()
	rep := s.handle(r, req)
	s.mu.Unlock()

	if rep.render != nil {
		body, err := rep.render()
		if err != nil {
			rep.status, rep.body = http.StatusInternalServerError, statusBody(http.StatusInternalServerError, "Internal server error")
		} else {
			rep.body = body
			s.countFetch(req)
		}
	}
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(rep.status)
	// A failed write means the client went away; there is no one to tell.
	_, _ = w.Write(rep.body)
}

// handle decides the reply to req. The caller holds s.mu.
func (s *Server) handle(r *http.Request, req request) reply {
	now := s.clock.Now()
	s.stats.Requests++
	s.stats.ByEndpoint[RouteEndpoint{req.route, req.endpoint}]++

	if rep, rejected := s.gate(r, req); rejected {
		return rep
	}

	header, over := s.countLimits(now, req)
	rep := s.limitOrFault(header, over, req)
	if rep.status == 0 {
		rep = s.resource(now, req)
	}
	rep.header = header
	if rep.status == http.StatusTooManyRequests {
		return rep
	}
	s.stats.Accepted++
	rs := s.stats.Routes[req.route]
	if rs.Accepted == 0 {
		rs.First = now
	}
	rs.Accepted++
	rs.Last = now
	s.stats.Routes[req.route] = rs
	return rep
}

// gate rejects, before any rate limiting, what Riot's gateway rejects: bad
// methods, missing or wrong keys and resources the host does not serve.
func (s *Server) gate(r *http.Request, req request) (reply, bool) {
	if r.Method != http.MethodGet {
		s.stats.Unknown++
		rep := errorReply(http.StatusMethodNotAllowed, "Method not allowed")
		rep.header = http.Header{"Allow": {http.MethodGet}}
		return rep, true
	}
	// Only the header is accepted: a key in the query string ends up in
	// access logs, so a client sending one should fail here.
	token := r.Header.Get("X-Riot-Token")
	if token == "" {
		s.stats.AuthFailures++
		return errorReply(http.StatusUnauthorized, "Unauthorized"), true
	}
	if s.expired || subtle.ConstantTimeCompare([]byte(token), []byte(s.key)) != 1 {
		s.stats.AuthFailures++
		return errorReply(http.StatusForbidden, "Forbidden"), true
	}
	switch {
	case !isPlatform(req.route) && !isRegion(req.route):
		s.stats.Unknown++
		return errorReply(http.StatusNotFound, "Unknown routing value"), true
	case req.endpoint == "":
		// Riot answers 403 for paths it does not serve (spectator-v4 since 2024).
		s.stats.Unknown++
		return errorReply(http.StatusForbidden, "Forbidden"), true
	case !servedOn(req.endpoint, req.route):
		s.stats.WrongRoute++
		return errorReply(http.StatusForbidden, "Forbidden"), true
	}
	return reply{}, false
}

// countLimits counts req in its application and method windows and returns
// the rate-limit headers and whether a limit is exceeded, in which case the
// headers already name the limit and its Retry-After.
func (s *Server) countLimits(now time.Time, req request) (http.Header, bool) {
	app, ok := s.appBuckets[req.route]
	if !ok {
		app = newBucket(s.appLimits)
		s.appBuckets[req.route] = app
	}
	key := RouteEndpoint{req.route, req.endpoint}
	method, ok := s.methBuckets[key]
	if !ok {
		method = newBucket(s.methodLimits[req.endpoint])
		s.methBuckets[key] = method
	}
	appRetry, methodRetry := app.hit(now), method.hit(now)
	h := http.Header{}
	h.Set("X-App-Rate-Limit", app.limits())
	h.Set("X-App-Rate-Limit-Count", app.counts())
	h.Set("X-Method-Rate-Limit", method.limits())
	h.Set("X-Method-Rate-Limit-Count", method.counts())
	switch {
	case appRetry > 0:
		setLimited(h, LimitApplication, appRetry)
	case methodRetry > 0:
		setLimited(h, LimitMethod, methodRetry)
	default:
		return h, false
	}
	return h, true
}

// limitOrFault returns the 429 for an exceeded limit or the injected fault
// for req, or a zero reply to serve the resource.
func (s *Server) limitOrFault(h http.Header, over bool, req request) reply {
	if over {
		s.stats.RateLimited[LimitType(h.Get("X-Rate-Limit-Type"))]++
		return errorReply(http.StatusTooManyRequests, "Rate limit exceeded")
	}
	f := s.takeFault(req.endpoint)
	if f == nil {
		return reply{}
	}
	s.stats.Faults++
	if f.Status != http.StatusTooManyRequests {
		return errorReply(f.Status, http.StatusText(f.Status))
	}
	s.stats.RateLimited[f.LimitType]++
	setLimited(h, f.LimitType, f.RetryAfter)
	return errorReply(http.StatusTooManyRequests, "Rate limit exceeded")
}

func setLimited(h http.Header, t LimitType, retryAfter int) {
	if t != LimitUntyped {
		h.Set("X-Rate-Limit-Type", string(t))
	}
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(retryAfter))
	}
}

// resource serves req once it passed the gate, the limits and the faults.
func (s *Server) resource(now time.Time, req request) reply {
	switch req.endpoint {
	case EndpointAccount:
		return s.account(req)
	case EndpointSpectator:
		return s.spectator(now, req)
	case EndpointMatchIDs:
		return s.matchIDs(now, req)
	default:
		return s.matchDocument(now, req)
	}
}

func errorReply(code int, message string) reply {
	return reply{status: code, body: statusBody(code, message)}
}

// statusBody is Riot's error body: {"status":{"message":…,"status_code":…}}.
func statusBody(code int, message string) []byte {
	type status struct {
		Message    string `json:"message"`
		StatusCode int    `json:"status_code"`
	}
	b, _ := json.Marshal(struct {
		Status status `json:"status"`
	}{status{message, code}}) // cannot fail: two plain fields
	return b
}

func jsonReply(v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		return errorReply(http.StatusInternalServerError, "Internal server error")
	}
	return reply{status: http.StatusOK, body: b}
}
