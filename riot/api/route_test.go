package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot/riottest"
)

func TestRoute(t *testing.T) {
	cases := []struct {
		name     string
		url      string // as golio or Client.get builds it
		platform string // from WithPlatform; "" for none
		endpoint string
		want     string
	}{
		{"account kr", "https://asia.api.riotgames.com/riot/account/v1/accounts/by-riot-id/Hide%20on%20bush/KR1", "kr", EndpointAccount, "asia"},
		{"account na1", "https://americas.api.riotgames.com/riot/account/v1/accounts/by-riot-id/a/b", "na1", EndpointAccount, "americas"},
		{"account me1", "https://.api.riotgames.com/riot/account/v1/accounts/by-riot-id/a/b", "me1", EndpointAccount, "europe"},
		// account-v1 has no sea cluster; golio v1.0.0 sends sg2 there.
		{"account sg2 to asia", "https://sea.api.riotgames.com/riot/account/v1/accounts/by-riot-id/a/b", "sg2", EndpointAccount, "asia"},
		{"account oc1 to asia", "https://sea.api.riotgames.com/riot/account/v1/accounts/by-riot-id/a/b", "oc1", EndpointAccount, "asia"},
		{"account upper-case platform", "https://x.api.riotgames.com/riot/account/v1/accounts/by-riot-id/a/b", "EUW1", EndpointAccount, "europe"},
		{"spectator kr", "https://riot.invalid/lol/spectator/v5/active-games/by-summoner/P", "kr", EndpointSpectator, "kr"},
		{"spectator oc1", "https://riot.invalid/lol/spectator/v5/active-games/by-summoner/P", "oc1", EndpointSpectator, "oc1"},
		{"spectator from golio host", "https://euw1.api.riotgames.com/lol/spectator/v5/active-games/by-summoner/P", "", EndpointSpectator, "euw1"},
		{"match ids kr", "https://asia.api.riotgames.com/lol/match/v5/matches/by-puuid/P/ids?start=0&count=20", "kr", EndpointMatchIDs, "asia"},
		// golio v1.0.0 maps oc1 to americas and me1 to nothing.
		{"match ids oc1", "https://americas.api.riotgames.com/lol/match/v5/matches/by-puuid/P/ids", "oc1", EndpointMatchIDs, "sea"},
		{"match ids me1", "https://.api.riotgames.com/lol/match/v5/matches/by-puuid/P/ids", "me1", EndpointMatchIDs, "europe"},
		{"match ids la2", "https://americas.api.riotgames.com/lol/match/v5/matches/by-puuid/P/ids", "la2", EndpointMatchIDs, "americas"},
		{"match kr", "https://riot.invalid/lol/match/v5/matches/KR_7014499581", "", EndpointMatch, "asia"},
		{"match oc1", "https://riot.invalid/lol/match/v5/matches/OC1_1", "", EndpointMatch, "sea"},
		{"match me1", "https://riot.invalid/lol/match/v5/matches/ME1_1", "", EndpointMatch, "europe"},
		{"match id prefix wins over platform", "https://riot.invalid/lol/match/v5/matches/EUW1_5", "kr", EndpointMatch, "europe"},
		{"match without prefix uses platform", "https://riot.invalid/lol/match/v5/matches/12345", "jp1", EndpointMatch, "asia"},
		// golio's GetTimeline calls the platform host, which does not serve it.
		{"timeline from golio platform host", "https://kr.api.riotgames.com/lol/match/v5/matches/KR_7014499581/timeline", "", EndpointTimeline, "asia"},
		{"timeline oc1", "https://riot.invalid/lol/match/v5/matches/OC1_9/timeline", "", EndpointTimeline, "sea"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, err := url.Parse(c.url)
			if err != nil {
				t.Fatal(err)
			}
			ep, err := classify(u.Path)
			if err != nil {
				t.Fatalf("classify(%s): %v", u.Path, err)
			}
			if ep.name != c.endpoint {
				t.Errorf("endpoint = %s, want %s", ep.name, c.endpoint)
			}
			got, err := ep.route(u, c.platform)
			if err != nil {
				t.Fatalf("route: %v", err)
			}
			if got != c.want {
				t.Errorf("route = %s, want %s", got, c.want)
			}
		})
	}
}

func TestRouteErrors(t *testing.T) {
	cases := []struct {
		name, url, platform, want string
	}{
		{"spectator-v4", "https://kr.api.riotgames.com/lol/spectator/v4/active-games/by-summoner/S", "kr", "refusing unsupported endpoint"},
		{"summoner-v4", "https://kr.api.riotgames.com/lol/summoner/v4/summoners/by-puuid/P", "kr", "refusing unsupported endpoint"},
		{"match with extra segment", "https://asia.api.riotgames.com/lol/match/v5/matches/KR_1/x/timeline", "kr", "refusing unsupported endpoint"},
		{"empty match id", "https://asia.api.riotgames.com/lol/match/v5/matches/", "kr", "refusing unsupported endpoint"},
		{"match ids without ids", "https://asia.api.riotgames.com/lol/match/v5/matches/by-puuid/P", "kr", "refusing unsupported endpoint"},
		{"unknown platform", "https://riot.invalid/lol/spectator/v5/active-games/by-summoner/P", "pbe1", `unknown platform "pbe1"`},
		{"unknown match prefix", "https://riot.invalid/lol/match/v5/matches/XX_1", "", `unknown platform "XX"`},
		{"golio empty region", "https://.api.riotgames.com/lol/match/v5/matches/by-puuid/P/ids", "", `unknown platform ""`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, err := url.Parse(c.url)
			if err != nil {
				t.Fatal(err)
			}
			ep, err := classify(u.Path)
			if err == nil {
				_, err = ep.route(u, c.platform)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestDoerRefusesBeforeSending checks that unsupported endpoints and
// unroutable requests never reach Riot, which blacklists keys that call
// resources it does not serve.
func TestDoerRefusesBeforeSending(t *testing.T) {
	srv := newServer(t)
	d := newTestDoer(t, srv, telemetry.Settings{})
	for _, path := range []string{
		"/lol/spectator/v4/active-games/by-summoner/S",
		"/lol/summoner/v4/summoners/by-puuid/P",
		"/lol/match/v5/matches/XX_1",
		"/lol/status/v4/platform-data",
	} {
		req, err := http.NewRequestWithContext(WithPlatform(context.Background(), "kr"), http.MethodGet, "https://kr.api.riotgames.com"+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := d.Do(req); err == nil {
			t.Errorf("%s: status %d, want an error", path, resp.StatusCode)
		}
	}
	if st := srv.Stats(); st.Requests != 0 {
		t.Errorf("server saw %d requests, want 0", st.Requests)
	}
}

// TestPUUIDEscaping resolves Riot IDs that golio would mangle unescaped
// through the whole stack, on the platforms whose routing golio gets wrong.
func TestPUUIDEscaping(t *testing.T) {
	srv := newServer(t)
	client := NewClient(newTestDoer(t, srv, telemetry.Settings{}))
	cases := []struct{ name, tag, platform string }{
		{"Hide on bush", "KR1", "kr"},
		{"젠지 한별", "GEN", "kr"},
		{"a?b/c%", "EUW", "euw1"},
		{"a/b", "X", "sg2"},
		{"Ünïcödé", "ME1", "me1"},
		{"plus+and&", "NA1", "na1"},
	}
	for _, c := range cases {
		want := srv.AddPlayer(c.name, c.tag, c.platform)
		riotID := c.name + "#" + c.tag
		got, err := client.PUUID(context.Background(), c.platform, riotID)
		if err != nil {
			t.Errorf("PUUID(%q): %v", riotID, err)
			continue
		}
		if got != want {
			t.Errorf("PUUID(%q) = %s, want %s", riotID, got, want)
		}
	}
	st := srv.Stats()
	if st.WrongRoute != 0 || st.Unknown != 0 {
		t.Errorf("wrong-route %d, unknown %d calls; want none", st.WrongRoute, st.Unknown)
	}
	for re, n := range st.ByEndpoint {
		if re.Endpoint == riottest.EndpointAccount && re.Route != "americas" && re.Route != "asia" && re.Route != "europe" {
			t.Errorf("%d account calls on %s", n, re.Route)
		}
	}
}
