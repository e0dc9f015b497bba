package riottest

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// step is one request at a point on the manual clock and what it must get.
type step struct {
	advance     time.Duration
	path        string
	wantStatus  int
	wantType    string // X-Rate-Limit-Type
	wantRetry   string // Retry-After
	wantApp     string // X-App-Rate-Limit-Count
	wantMethod  string // X-Method-Rate-Limit-Count
	description string
}

func runSteps(t *testing.T, s *Server, clock *clockwork.FakeClock, steps []step) {
	t.Helper()
	for i, st := range steps {
		clock.Advance(st.advance)
		r := get(t, s, s.Key(), st.path)
		got := step{
			wantStatus: r.status,
			wantType:   r.header.Get("X-Rate-Limit-Type"),
			wantRetry:  r.header.Get("Retry-After"),
			wantApp:    r.header.Get("X-App-Rate-Limit-Count"),
			wantMethod: r.header.Get("X-Method-Rate-Limit-Count"),
		}
		if got.wantStatus != st.wantStatus || got.wantType != st.wantType || got.wantRetry != st.wantRetry ||
			got.wantApp != st.wantApp || (st.wantMethod != "" && got.wantMethod != st.wantMethod) {
			t.Errorf("step %d (%s): status %d type %q retry %q app %q method %q; want %d %q %q %q %q",
				i, st.description, got.wantStatus, got.wantType, got.wantRetry, got.wantApp, got.wantMethod,
				st.wantStatus, st.wantType, st.wantRetry, st.wantApp, st.wantMethod)
		}
	}
}

func TestWindowOpensAtFirstRequest(t *testing.T) {
	s, clock := newTestServer(t, WithAppLimits(Limit{3, 10}))
	s.AddPlayer("Faker", "KR1", "kr")
	p := accountPath("asia", "Faker", "KR1")
	// The window opens at t0+4s, the first request, and so ends at t0+14s.
	runSteps(t, s, clock, []step{
		{advance: 4 * time.Second, path: p, wantStatus: 200, wantApp: "1:10", description: "first request opens the window"},
		{advance: 5500 * time.Millisecond, path: p, wantStatus: 200, wantApp: "2:10"},
		{advance: time.Second, path: p, wantStatus: 200, wantApp: "3:10", description: "t0+10.5s: no clock-aligned reset"},
		{advance: 300 * time.Millisecond, path: p, wantStatus: 429, wantType: "application", wantRetry: "4", wantApp: "4:10", description: "3.2s left, rounded up"},
		{path: p, wantStatus: 429, wantType: "application", wantRetry: "4", wantApp: "5:10", description: "rejected requests count"},
		{advance: 3200 * time.Millisecond, path: p, wantStatus: 200, wantApp: "1:10", description: "t0+14s: a new window opens"},
		{advance: 9900 * time.Millisecond, path: p, wantStatus: 200, wantApp: "2:10"},
		{advance: 100 * time.Millisecond, path: p, wantStatus: 200, wantApp: "1:10", description: "t0+24s: next window"},
	})
}

func TestAppVersusMethodLimits(t *testing.T) {
	s, clock := newTestServer(t,
		WithAppLimits(Limit{5, 10}),
		WithMethodLimits(EndpointMatchIDs, Limit{2, 10}),
	)
	kr := s.AddPlayer("Faker", "KR1", "kr")
	euw := s.AddPlayer("Caps", "EUW", "euw1")
	account := accountPath("asia", "Faker", "KR1")
	krIDs, euwIDs := idsPath("asia", kr, ""), idsPath("europe", euw, "")
	runSteps(t, s, clock, []step{
		{path: krIDs, wantStatus: 200, wantApp: "1:10", wantMethod: "1:10"},
		{path: krIDs, wantStatus: 200, wantApp: "2:10", wantMethod: "2:10"},
		{advance: 1500 * time.Millisecond, path: krIDs, wantStatus: 429, wantType: "method", wantRetry: "9", wantApp: "3:10", wantMethod: "3:10", description: "method limit"},
		{path: account, wantStatus: 200, wantApp: "4:10", wantMethod: "1:60", description: "another endpoint has its own method budget"},
		{path: euwIDs, wantStatus: 200, wantApp: "1:10", wantMethod: "1:10", description: "another route has its own budgets"},
		{path: account, wantStatus: 200, wantApp: "5:10", wantMethod: "2:60"},
		{advance: time.Second, path: account, wantStatus: 429, wantType: "application", wantRetry: "8", wantApp: "6:10", wantMethod: "3:60", description: "application limit"},
		{path: krIDs, wantStatus: 429, wantType: "application", wantRetry: "8", wantApp: "7:10", wantMethod: "4:10", description: "application wins over method"},
	})

	st := s.Stats()
	if st.RateLimited[LimitMethod] != 1 || st.RateLimited[LimitApplication] != 2 || st.Accepted != 5 {
		t.Errorf("stats: method 429s %d, application 429s %d, accepted %d; want 1, 2, 5",
			st.RateLimited[LimitMethod], st.RateLimited[LimitApplication], st.Accepted)
	}
	want := []WindowStat{
		{Route: "asia", Limit: Limit{5, 10}, MaxCount: 7},
		{Route: "asia", Endpoint: EndpointAccount, Limit: Limit{1000, 60}, MaxCount: 3},
		{Route: "asia", Endpoint: EndpointMatchIDs, Limit: Limit{2, 10}, MaxCount: 4},
	}
	if got := st.Exceeded(); !equalWindows(got, []WindowStat{want[0], want[2]}) {
		t.Errorf("Exceeded() = %+v, want %+v", got, []WindowStat{want[0], want[2]})
	}
	if got := st.Windows[:3]; !equalWindows(got, want) {
		t.Errorf("Windows[:3] = %+v, want %+v", got, want)
	}
	if asia := st.Routes["asia"]; asia.Accepted != 4 || !asia.First.Equal(t0) || !asia.Last.Equal(t0.Add(1500*time.Millisecond)) {
		t.Errorf("asia throughput %+v, want 4 accepted from t0 to t0+1.5s", asia)
	}
}

func equalWindows(a, b []WindowStat) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRateLimitHeaders(t *testing.T) {
	s, clock := newTestServer(t)
	kr := s.AddPlayer("Faker", "KR1", "kr")
	cases := []struct {
		name       string
		advance    time.Duration
		path       string
		wantStatus int
		wantApp    string
		wantCount  string
		wantMethod string
		wantMCount string
	}{
		{"spectator 404", 0, spectatorPath("kr", kr), 404, "20:1,100:120", "1:1,1:120", "20000:10", "1:10"},
		{"spectator 404 again", 0, spectatorPath("kr", kr), 404, "20:1,100:120", "2:1,2:120", "20000:10", "2:10"},
		{"1 s later", time.Second, spectatorPath("kr", kr), 404, "20:1,100:120", "1:1,3:120", "20000:10", "3:10"},
		{"ids 200 on asia", 0, idsPath("asia", kr, ""), 200, "20:1,100:120", "1:1,1:120", "2000:10", "1:10"},
		{"ids 400", 0, idsPath("asia", kr, "?count=101"), 400, "20:1,100:120", "2:1,2:120", "2000:10", "2:10"},
		{"account 404", 0, accountPath("asia", "Nobody", "KR1"), 404, "20:1,100:120", "3:1,3:120", "1000:60", "1:60"},
		{"match 404", 0, matchPath("asia", "KR_1"), 404, "20:1,100:120", "4:1,4:120", "2000:10", "1:10"},
	}
	for _, tc := range cases {
		clock.Advance(tc.advance)
		r := get(t, s, s.Key(), tc.path)
		got := [4]string{r.header.Get("X-App-Rate-Limit"), r.header.Get("X-App-Rate-Limit-Count"), r.header.Get("X-Method-Rate-Limit"), r.header.Get("X-Method-Rate-Limit-Count")}
		want := [4]string{tc.wantApp, tc.wantCount, tc.wantMethod, tc.wantMCount}
		if r.status != tc.wantStatus || got != want {
			t.Errorf("%s: status %d headers %q; want %d %q", tc.name, r.status, got, tc.wantStatus, want)
		}
		if r.header.Get("Retry-After") != "" || r.header.Get("X-Rate-Limit-Type") != "" {
			t.Errorf("%s: Retry-After or X-Rate-Limit-Type on a %d", tc.name, r.status)
		}
	}
}

func TestConcurrentRequestsRespectLimits(t *testing.T) {
	s, _ := newTestServer(t, WithAppLimits(Limit{25, 10}))
	s.AddPlayer("Faker", "KR1", "kr")
	const workers, each = 4, 10
	var wg sync.WaitGroup
	statuses := make(chan int, workers*each)
	for range workers {
		wg.Go(func() {
			client := &http.Client{Timeout: 30 * time.Second}
			defer client.CloseIdleConnections()
			for range each {
				req, err := http.NewRequest(http.MethodGet, s.URL()+accountPath("asia", "Faker", "KR1"), nil)
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("X-Riot-Token", s.Key())
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				statuses <- resp.StatusCode
			}
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for code := range statuses {
		count[code]++
	}
	if count[200] != 25 || count[429] != workers*each-25 {
		t.Errorf("statuses %v, want 25×200 and %d×429", count, workers*each-25)
	}
	st := s.Stats()
	if ex := st.Exceeded(); len(ex) != 1 || ex[0].MaxCount != workers*each {
		t.Errorf("Exceeded() = %+v, want the application window at %d", ex, workers*each)
	}
	if st.Requests != workers*each || st.Accepted != 25 || st.RateLimited[LimitApplication] != workers*each-25 {
		t.Errorf("stats %+v", st)
	}
}
