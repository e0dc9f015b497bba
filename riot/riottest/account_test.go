package riottest

import (
	"testing"
)

func TestAccountRiotIDRoundTrip(t *testing.T) {
	cases := []struct{ gameName, tagLine string }{
		{"Hide on bush", "KR1"},
		{"젠지 한별", "GEN"},
		{"a?b", "KR1"},
		{"a/b", "KR1"},
		{"100%", "KR1"},
		{"a#b", "T#1"},
		{"plus+sign", "EUW"},
	}
	for _, tc := range cases {
		t.Run(tc.gameName, func(t *testing.T) {
			s, _ := newTestServer(t)
			puuid := s.AddPlayer(tc.gameName, tc.tagLine, "kr")
			for _, route := range []string{"americas", "asia", "europe"} {
				r := get(t, s, s.Key(), accountPath(route, tc.gameName, tc.tagLine))
				if r.status != 200 {
					t.Fatalf("%s: status %d (%s)", route, r.status, r.body)
				}
				var got account
				decode(t, r, &got)
				if want := (account{puuid, tc.gameName, tc.tagLine}); got != want {
					t.Errorf("%s: got %+v, want %+v", route, got, want)
				}
			}
		})
	}
}

func TestAccountLookup(t *testing.T) {
	s, _ := newTestServer(t)
	puuid := s.AddPlayer("Hide on bush", "KR1", "kr")
	if again := s.AddPlayer("Hide on bush", "KR1", "kr"); again != puuid {
		t.Errorf("same Riot ID got PUUIDs %q and %q", puuid, again)
	}
	if other := s.AddPlayer("Hide on bush", "KR2", "kr"); other == puuid || len(other) != 78 {
		t.Errorf("other Riot ID got PUUID %q (first %q), want a distinct 78-character id", other, puuid)
	}
	if bad := s.AddPlayer("Nobody", "X", "kr9"); bad != "" {
		t.Errorf("unknown platform gave PUUID %q, want none", bad)
	}

	cases := []struct {
		name       string
		path       string
		wantStatus int
	}{
		{"case-insensitive", accountPath("asia", "HIDE ON BUSH", "kr1"), 200},
		{"unknown", accountPath("asia", "Nobody", "KR1"), 404},
		// Unescaped, "?" starts the query and "/" splits the name: neither
		// may resolve, so a client that forgets to escape fails here.
		{"raw ?", "/asia/riot/account/v1/accounts/by-riot-id/a?b/KR1", 403},
		{"raw /", "/asia/riot/account/v1/accounts/by-riot-id/a/b/KR1", 403},
	}
	s.AddPlayer("a?b", "KR1", "kr")
	s.AddPlayer("a/b", "KR1", "kr")
	for _, tc := range cases {
		r := get(t, s, s.Key(), tc.path)
		if r.status != tc.wantStatus {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, r.status, tc.wantStatus, r.body)
		}
		if tc.wantStatus == 200 {
			var got account
			decode(t, r, &got)
			if got.GameName != "Hide on bush" || got.TagLine != "KR1" || got.PUUID != puuid {
				t.Errorf("%s: got %+v, want the registered spelling", tc.name, got)
			}
		}
	}
}
