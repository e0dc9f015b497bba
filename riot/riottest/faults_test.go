package riottest

import (
	"testing"
)

func TestFaults(t *testing.T) {
	type want struct {
		status     int
		limitType  string
		retryAfter string
	}
	ok := want{status: 200}
	cases := []struct {
		name        string
		opts        []Option
		inject      func(s *Server)
		endpoints   []Endpoint // one request each, in order
		want        []want
		wantFaults  int
		wantLimited map[LimitType]int
	}{
		{
			name:       "503 twice",
			inject:     func(s *Server) { s.InjectStatus(503, 2) },
			endpoints:  []Endpoint{EndpointAccount, EndpointMatchIDs, EndpointAccount},
			want:       []want{{status: 503}, {status: 503}, ok},
			wantFaults: 2,
		},
		{
			name:       "500 once",
			inject:     func(s *Server) { s.InjectStatus(500, 1) },
			endpoints:  []Endpoint{EndpointAccount, EndpointAccount},
			want:       []want{{status: 500}, ok},
			wantFaults: 1,
		},
		{
			name:        "service 429",
			inject:      func(s *Server) { s.Inject(Fault{Status: 429, LimitType: LimitService, RetryAfter: 7, Count: 1}) },
			endpoints:   []Endpoint{EndpointAccount, EndpointAccount},
			want:        []want{{429, "service", "7"}, ok},
			wantFaults:  1,
			wantLimited: map[LimitType]int{LimitService: 1},
		},
		{
			name:        "untyped 429 has no type and no Retry-After",
			inject:      func(s *Server) { s.InjectStatus(429, 1) },
			endpoints:   []Endpoint{EndpointMatchIDs, EndpointMatchIDs},
			want:        []want{{status: 429}, ok},
			wantFaults:  1,
			wantLimited: map[LimitType]int{LimitUntyped: 1},
		},
		{
			name:       "per endpoint",
			inject:     func(s *Server) { s.Inject(Fault{Endpoint: EndpointMatchIDs, Status: 503, Count: 1}) },
			endpoints:  []Endpoint{EndpointAccount, EndpointMatchIDs, EndpointMatchIDs},
			want:       []want{ok, {status: 503}, ok},
			wantFaults: 1,
		},
		{
			name: "faults queue in order",
			inject: func(s *Server) {
				s.InjectStatus(500, 1)
				s.InjectStatus(503, 1)
			},
			endpoints:  []Endpoint{EndpointAccount, EndpointAccount, EndpointAccount},
			want:       []want{{status: 500}, {status: 503}, ok},
			wantFaults: 2,
		},
		{
			name:        "a rate-limited request does not use up the fault",
			opts:        []Option{WithAppLimits(Limit{1, 10})},
			inject:      func(s *Server) { s.InjectStatus(503, 1) },
			endpoints:   []Endpoint{EndpointAccount, EndpointAccount},
			want:        []want{{status: 503}, {429, "application", "10"}},
			wantFaults:  1,
			wantLimited: map[LimitType]int{LimitApplication: 1},
		},
		{
			name:      "zero count injects nothing",
			inject:    func(s *Server) { s.InjectStatus(503, 0) },
			endpoints: []Endpoint{EndpointAccount},
			want:      []want{ok},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestServer(t, tc.opts...)
			puuid := s.AddPlayer("Faker", "KR1", "kr")
			paths := map[Endpoint]string{
				EndpointAccount:  accountPath("asia", "Faker", "KR1"),
				EndpointMatchIDs: idsPath("asia", puuid, ""),
			}
			tc.inject(s)
			for i, ep := range tc.endpoints {
				r := get(t, s, s.Key(), paths[ep])
				got := want{r.status, r.header.Get("X-Rate-Limit-Type"), r.header.Get("Retry-After")}
				if got != tc.want[i] {
					t.Errorf("request %d (%s): got %+v, want %+v", i, ep, got, tc.want[i])
				}
				if !hasRateHeaders(r.header) {
					t.Errorf("request %d (%s): %d without rate-limit headers", i, ep, r.status)
				}
			}
			st := s.Stats()
			if st.Faults != tc.wantFaults {
				t.Errorf("faults served %d, want %d", st.Faults, tc.wantFaults)
			}
			for lt, n := range tc.wantLimited {
				if st.RateLimited[lt] != n {
					t.Errorf("429s of type %q: %d, want %d", lt, st.RateLimited[lt], n)
				}
			}
			if got, want := len(st.RateLimited), len(tc.wantLimited); got != want {
				t.Errorf("429 types %v, want %v", st.RateLimited, tc.wantLimited)
			}
		})
	}
}
