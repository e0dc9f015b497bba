package riottest

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// RouteEndpoint is an endpoint on one routing value, the scope of a method
// limit. Endpoint is empty for requests that name no Riot resource.
type RouteEndpoint struct {
	Route    string
	Endpoint Endpoint
}

// RouteStats is what one routing value accepted, for throughput checks:
// Accepted requests between First and Last on the server clock.
type RouteStats struct {
	Accepted    int
	First, Last time.Time
}

// WindowStat is the highest count one rate-limit window ever reached.
// Endpoint is empty for an application limit. Because rejected requests
// count too, MaxCount > Limit.Count means a client sent more than allowed.
type WindowStat struct {
	Route    string
	Endpoint Endpoint
	Limit    Limit
	MaxCount int
}

// Stats counts what the server saw. Stats() returns a copy.
type Stats struct {
	// Requests is every request received.
	Requests int
	// ByEndpoint counts every request by routing value and endpoint.
	ByEndpoint map[RouteEndpoint]int
	// Accepted counts requests that passed the gate (key, route) and were
	// not answered 429: what a client got through its rate limits.
	Accepted int
	// RateLimited counts 429s by X-Rate-Limit-Type, injected ones included.
	RateLimited map[LimitType]int
	// Faults counts injected faults served.
	Faults int
	// WrongRoute counts calls to an endpoint on a host that does not serve
	// it (403), or for a resource another host owns: a match id or PUUID
	// asked of the wrong cluster or platform (404 or an empty list).
	WrongRoute int
	// Unknown counts requests for an unknown routing value, path or method.
	Unknown int
	// AuthFailures counts 401s and 403s for a missing, wrong or expired key.
	AuthFailures int
	// MatchFetches and TimelineFetches count 200 responses per match id.
	MatchFetches    map[string]int
	TimelineFetches map[string]int
	// Routes holds accepted-request throughput per routing value.
	Routes map[string]RouteStats
	// Windows lists every rate-limit window used, sorted by route, then
	// endpoint (application first), then window length.
	Windows []WindowStat
}

func newStats() Stats {
	return Stats{
		ByEndpoint:      make(map[RouteEndpoint]int),
		RateLimited:     make(map[LimitType]int),
		MatchFetches:    make(map[string]int),
		TimelineFetches: make(map[string]int),
		Routes:          make(map[string]RouteStats),
	}
}

// Exceeded returns the windows whose count ever went past their limit; a
// client that respects Riot's limits leaves it empty.
func (s Stats) Exceeded() []WindowStat {
	var out []WindowStat
	for _, w := range s.Windows {
		if w.MaxCount > w.Limit.Count {
			out = append(out, w)
		}
	}
	return out
}

// Stats returns a copy of the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByEndpoint = maps.Clone(s.stats.ByEndpoint)
	st.RateLimited = maps.Clone(s.stats.RateLimited)
	st.MatchFetches = maps.Clone(s.stats.MatchFetches)
	st.TimelineFetches = maps.Clone(s.stats.TimelineFetches)
	st.Routes = maps.Clone(s.stats.Routes)
	st.Windows = nil
	for route, b := range s.appBuckets {
		st.Windows = appendWindows(st.Windows, route, "", b)
	}
	for key, b := range s.methBuckets {
		st.Windows = appendWindows(st.Windows, key.Route, key.Endpoint, b)
	}
	slices.SortFunc(st.Windows, func(a, b WindowStat) int {
		if c := strings.Compare(a.Route, b.Route); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.Endpoint), string(b.Endpoint)); c != 0 {
			return c
		}
		return a.Limit.Seconds - b.Limit.Seconds
	})
	return st
}

func appendWindows(out []WindowStat, route string, ep Endpoint, b bucket) []WindowStat {
	for _, w := range b {
		out = append(out, WindowStat{Route: route, Endpoint: ep, Limit: w.limit, MaxCount: w.maxCount})
	}
	return out
}

// countFetch records a match or timeline served with 200.
func (s *Server) countFetch(req request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.endpoint == EndpointTimeline {
		s.stats.TimelineFetches[req.args[0]]++
	} else {
		s.stats.MatchFetches[req.args[0]]++
	}
}

// Allowed is the most requests route could have had accepted between its
// first and last accepted request. Riot's fixed windows open at the first
// request after the previous one expired, so a limit of n per w allows at
// most n·(⌊span/w⌋+1). The binding limit is the tightest application window
// or, if lower, the sum over the route's endpoints of their tightest method
// window.
func (st Stats) Allowed(route string) int {
	rs := st.Routes[route]
	span := rs.Last.Sub(rs.First)
	allows := func(l Limit) int {
		return l.Count * (int(span/(time.Duration(l.Seconds)*time.Second)) + 1)
	}
	app := -1
	methods := map[Endpoint]int{}
	for _, w := range st.Windows {
		if w.Route != route {
			continue
		}
		a := allows(w.Limit)
		if w.Endpoint == "" {
			if app < 0 || a < app {
				app = a
			}
			continue
		}
		if m, ok := methods[w.Endpoint]; !ok || a < m {
			methods[w.Endpoint] = a
		}
	}
	sum := 0
	for _, m := range methods {
		sum += m
	}
	if app < 0 || len(methods) > 0 && sum < app {
		return sum
	}
	return app
}
