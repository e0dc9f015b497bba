package riottest

import (
	"testing"
	"time"
)

func TestStatsIsACopy(t *testing.T) {
	s, _ := newTestServer(t)
	s.AddPlayer("Faker", "KR1", "kr")
	get(t, s, s.Key(), accountPath("asia", "Faker", "KR1"))

	first := s.Stats()
	first.ByEndpoint[RouteEndpoint{"asia", EndpointAccount}] = 99
	first.Routes["asia"] = RouteStats{}
	first.Windows[0].MaxCount = 99

	again := s.Stats()
	if n := again.ByEndpoint[RouteEndpoint{"asia", EndpointAccount}]; n != 1 {
		t.Errorf("ByEndpoint changed through a copy: %d", n)
	}
	if again.Routes["asia"].Accepted != 1 || again.Windows[0].MaxCount != 1 {
		t.Errorf("Routes or Windows changed through a copy: %+v %+v", again.Routes, again.Windows)
	}
	if len(again.Exceeded()) != 0 {
		t.Errorf("Exceeded() = %+v after one request", again.Exceeded())
	}
}

func TestStatsAllowed(t *testing.T) {
	span := func(d time.Duration) map[string]RouteStats {
		return map[string]RouteStats{"asia": {Accepted: 1, First: t0, Last: t0.Add(d)}}
	}
	app := []WindowStat{
		{Route: "asia", Limit: Limit{Count: 10, Seconds: 1}},
		{Route: "asia", Limit: Limit{Count: 30, Seconds: 3}},
		{Route: "kr", Limit: Limit{Count: 1, Seconds: 1}}, // another route's
	}
	for _, tc := range []struct {
		name    string
		windows []WindowStat
		span    time.Duration
		want    int
	}{
		// 3.3 s: 10·4 = 40 by the 1 s window, 30·2 = 60 by the 3 s one.
		{"tightest application window", app, 3300 * time.Millisecond, 40},
		{"within the first window", app, 0, 10},
		// One method at 4:1 binds below the application's 10:1.
		{"method below application", append(app[:2:2], WindowStat{Route: "asia", Endpoint: EndpointMatchIDs, Limit: Limit{Count: 4, Seconds: 1}}), 3300 * time.Millisecond, 16},
		// Two methods sum past the application limit: the application binds.
		{"methods sum above application", append(app[:2:2],
			WindowStat{Route: "asia", Endpoint: EndpointMatchIDs, Limit: Limit{Count: 8, Seconds: 1}},
			WindowStat{Route: "asia", Endpoint: EndpointAccount, Limit: Limit{Count: 8, Seconds: 1}}), 3300 * time.Millisecond, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := Stats{Routes: span(tc.span), Windows: tc.windows}
			if got := st.Allowed("asia"); got != tc.want {
				t.Errorf("Allowed = %d, want %d", got, tc.want)
			}
		})
	}
}
