package riottest

import (
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// t0 is where every test's fake clock starts.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestServer(t *testing.T, opts ...Option) (*Server, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(t0)
	s := NewServer(append([]Option{WithClock(clock)}, opts...)...)
	t.Cleanup(s.Close)
	return s, clock
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// get sends GET path with key as X-Riot-Token (none when empty). path must
// already be escaped.
func get(t *testing.T, s *Server, key, path string) response {
	t.Helper()
	return do(t, s, http.MethodGet, key, path)
}

func do(t *testing.T, s *Server, method, key, path string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, nil)
	if err != nil {
		t.Fatalf("build request %s: %v", path, err)
	}
	if key != "" {
		req.Header.Set("X-Riot-Token", key)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

func decode(t *testing.T, r response, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func accountPath(route, gameName, tagLine string) string {
	return "/" + route + "/riot/account/v1/accounts/by-riot-id/" + url.PathEscape(gameName) + "/" + url.PathEscape(tagLine)
}

func spectatorPath(route, puuid string) string {
	return "/" + route + "/lol/spectator/v5/active-games/by-summoner/" + puuid
}

func idsPath(route, puuid, query string) string {
	return "/" + route + "/lol/match/v5/matches/by-puuid/" + puuid + "/ids" + query
}

func matchPath(route, id string) string { return "/" + route + "/lol/match/v5/matches/" + id }

func timelinePath(route, id string) string { return matchPath(route, id) + "/timeline" }

var rateHeaders = []string{"X-App-Rate-Limit", "X-App-Rate-Limit-Count", "X-Method-Rate-Limit", "X-Method-Rate-Limit-Count"}

func hasRateHeaders(h http.Header) bool {
	for _, name := range rateHeaders {
		if h.Get(name) == "" {
			return false
		}
	}
	return true
}

func TestAuth(t *testing.T) {
	const key = "RGAPI-test-secret-key"
	s, _ := newTestServer(t, WithKey(key))
	s.AddPlayer("Hide on bush", "KR1", "kr")
	path := accountPath("asia", "Hide on bush", "KR1")

	steps := []struct {
		name       string
		key        string
		expire     bool
		wantStatus int
		wantBody   string
	}{
		{"missing key", "", false, 401, `{"status":{"message":"Unauthorized","status_code":401}}`},
		{"wrong key", "RGAPI-wrong-key", false, 403, `{"status":{"message":"Forbidden","status_code":403}}`},
		{"right key", key, false, 200, ""},
		{"expired key", key, true, 403, `{"status":{"message":"Forbidden","status_code":403}}`},
	}
	for _, st := range steps {
		if st.expire {
			s.ExpireKey()
		}
		r := get(t, s, st.key, path)
		if r.status != st.wantStatus {
			t.Fatalf("%s: status %d, want %d", st.name, r.status, st.wantStatus)
		}
		if st.wantBody != "" && string(r.body) != st.wantBody {
			t.Errorf("%s: body %s, want %s", st.name, r.body, st.wantBody)
		}
		if got, want := hasRateHeaders(r.header), st.wantStatus == 200; got != want {
			t.Errorf("%s: rate-limit headers present = %v, want %v", st.name, got, want)
		}
		for _, secret := range []string{key, "RGAPI-wrong-key"} {
			if strings.Contains(string(r.body), secret) || strings.Contains(flatten(r.header), secret) {
				t.Errorf("%s: response echoes an API key", st.name)
			}
		}
	}
	st := s.Stats()
	if st.AuthFailures != 3 || st.Accepted != 1 || st.Requests != 4 {
		t.Errorf("stats: auth failures %d, accepted %d, requests %d; want 3, 1, 4", st.AuthFailures, st.Accepted, st.Requests)
	}
}

func flatten(h http.Header) string {
	var b strings.Builder
	for k, vs := range h {
		b.WriteString(k + ":" + strings.Join(vs, ",") + "\n")
	}
	return b.String()
}

func TestRouting(t *testing.T) {
	cases := []struct {
		name           string
		method         string
		path           func(kr, match string) string
		wantStatus     int
		wantWrongRoute int
		wantUnknown    int
		wantLimited    bool // counted against the rate limits
	}{
		{"account on asia", "GET", func(_, _ string) string { return accountPath("asia", "Faker", "KR1") }, 200, 0, 0, true},
		{"account on sea", "GET", func(_, _ string) string { return accountPath("sea", "Faker", "KR1") }, 403, 1, 0, false},
		{"account on a platform", "GET", func(_, _ string) string { return accountPath("kr", "Faker", "KR1") }, 403, 1, 0, false},
		{"spectator on a region", "GET", func(kr, _ string) string { return spectatorPath("asia", kr) }, 403, 1, 0, false},
		{"spectator on another platform", "GET", func(kr, _ string) string { return spectatorPath("euw1", kr) }, 404, 1, 0, true},
		{"ids on a platform", "GET", func(kr, _ string) string { return idsPath("kr", kr, "") }, 403, 1, 0, false},
		{"ids on another cluster", "GET", func(kr, _ string) string { return idsPath("europe", kr, "") }, 200, 1, 0, true},
		{"match on its cluster", "GET", func(_, m string) string { return matchPath("asia", m) }, 200, 0, 0, true},
		{"match on a platform", "GET", func(_, m string) string { return matchPath("kr", m) }, 403, 1, 0, false},
		{"timeline on a platform (golio v1.0.0)", "GET", func(_, m string) string { return timelinePath("kr", m) }, 403, 1, 0, false},
		{"match on another cluster", "GET", func(_, m string) string { return matchPath("americas", m) }, 404, 1, 0, true},
		{"unknown match of another cluster", "GET", func(_, _ string) string { return matchPath("asia", "EUW1_1") }, 404, 1, 0, true},
		{"unknown routing value", "GET", func(kr, _ string) string { return spectatorPath("xx1", kr) }, 404, 0, 1, false},
		{"spectator-v4", "GET", func(kr, _ string) string { return "/kr/lol/spectator/v4/active-games/by-summoner/" + kr }, 403, 0, 1, false},
		{"trailing slash", "GET", func(kr, _ string) string { return idsPath("asia", kr, "/") }, 403, 0, 1, false},
		{"POST", "POST", func(_, _ string) string { return accountPath("asia", "Faker", "KR1") }, 405, 0, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := newTestServer(t)
			kr := s.AddPlayer("Faker", "KR1", "kr")
			match := s.AddGame(GameSpec{Platform: "kr", Players: []string{kr}, Start: t0, Duration: time.Minute})
			clock.Advance(time.Minute)

			r := do(t, s, tc.method, s.Key(), tc.path(kr, match))
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d (%s)", r.status, tc.wantStatus, r.body)
			}
			if got := hasRateHeaders(r.header); got != tc.wantLimited {
				t.Errorf("rate-limit headers present = %v, want %v", got, tc.wantLimited)
			}
			st := s.Stats()
			if st.WrongRoute != tc.wantWrongRoute || st.Unknown != tc.wantUnknown {
				t.Errorf("wrong-route %d, unknown %d; want %d, %d", st.WrongRoute, st.Unknown, tc.wantWrongRoute, tc.wantUnknown)
			}
			if got, want := st.Accepted, map[bool]int{true: 1}[tc.wantLimited]; got != want {
				t.Errorf("accepted %d, want %d", got, want)
			}
		})
	}
}

func TestURLs(t *testing.T) {
	s, _ := newTestServer(t)
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatalf("parse %s: %v", s.URL(), err)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		t.Errorf("server listens on %s, want a loopback address", u.Host)
	}
	if want := s.URL() + "/{route}"; s.BaseURL() != want {
		t.Errorf("BaseURL %q, want %q", s.BaseURL(), want)
	}
	s.AddPlayer("Faker", "KR1", "kr")
	base := strings.Replace(s.BaseURL(), "{route}", "asia", 1)
	r := get(t, s, s.Key(), strings.TrimPrefix(base, s.URL())+"/riot/account/v1/accounts/by-riot-id/Faker/KR1")
	if r.status != 200 {
		t.Errorf("account through BaseURL: status %d", r.status)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	s := NewServer()
	addr := s.URL()
	s.Close()
	s.Close()
	client := &http.Client{Timeout: 5 * time.Second}
	if resp, err := client.Get(addr + "/asia/riot/account/v1/accounts/by-riot-id/a/b"); err == nil {
		resp.Body.Close()
		t.Errorf("request after Close succeeded with %d", resp.StatusCode)
	}
}

func TestKeyInQueryIsRejected(t *testing.T) {
	s, _ := newTestServer(t)
	s.AddPlayer("Faker", "KR1", "kr")
	r := get(t, s, "", "/asia/riot/account/v1/accounts/by-riot-id/Faker/KR1?api_key="+url.QueryEscape(s.Key()))
	if r.status != 401 || strings.Contains(string(r.body), s.Key()) {
		t.Errorf("key in the query string: status %d, want 401 without the key echoed", r.status)
	}
}
