package riottest

import "testing"

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
