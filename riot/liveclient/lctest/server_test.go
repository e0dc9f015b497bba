package lctest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/riot/liveclient"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The captures are the data model's fixtures.
const (
	rankedCapture    = "../testdata/allgamedata_ranked_00.json"
	spectatedCapture = "../testdata/allgamedata_spectate_ranked_00.json"
	practiceCapture  = "../testdata/allgamedata_practice_01.json"
)

// t0 is where every test's fake clock starts.
var t0 = time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)

func newTestServer(t *testing.T, g Game, opts ...Option) (*Server, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(t0)
	return New(t, g, append([]Option{WithClock(clock)}, opts...)...), clock
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func get(t *testing.T, s *Server, path string) response {
	t.Helper()
	resp, err := s.Client().Get(s.URL() + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return response{resp.StatusCode, resp.Header, body}
}

// getOK fetches path, which must answer 200, and decodes it with decode.
func getOK[T any](t *testing.T, s *Server, path string, decode func([]byte) (T, error)) T {
	t.Helper()
	r := get(t, s, path)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	v, err := decode(r.body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return v
}

func eventIDs(evs []liveclient.Event) []int {
	ids := []int{}
	for _, e := range evs {
		ids = append(ids, e.EventID)
	}
	return ids
}

// advanceTo moves clock to game time gt of a game loaded at t0 at speed 1.
func advanceTo(clock *clockwork.FakeClock, gt time.Duration) {
	clock.Advance(t0.Add(gt).Sub(clock.Now()))
}

func TestEventsAppearWithTime(t *testing.T) {
	s, clock := newTestServer(t, Game{Capture: bridgetest.ReadFile(t, rankedCapture)})
	for _, c := range []struct {
		at   time.Duration
		path string
		want []int
	}{
		{0, "/liveclientdata/eventdata", []int{}},
		{time.Second, "/liveclientdata/eventdata", []int{0}},
		{130 * time.Second, "/liveclientdata/eventdata", []int{0, 1, 2, 3}},
		{130 * time.Second, "/liveclientdata/eventdata?eventID=2", []int{2, 3}},
		{130 * time.Second, "/liveclientdata/eventdata?eventID=4", []int{}},
		{12 * time.Minute, "/liveclientdata/eventdata?eventID=12", []int{12, 13}},
	} {
		advanceTo(clock, c.at)
		evs := getOK(t, s, c.path, liveclient.DecodeEvents)
		if got := eventIDs(evs); !reflect.DeepEqual(got, c.want) {
			t.Errorf("at %v, %s: events %v, want %v", c.at, c.path, got, c.want)
		}
		stats := getOK(t, s, "/liveclientdata/gamestats", liveclient.DecodeGameStats)
		if stats.GameTime != c.at.Seconds() || stats.GameMode != "CLASSIC" || stats.MapNumber != 11 {
			t.Errorf("at %v: gamestats %+v", c.at, stats)
		}
		if got := s.GameTime(); got != c.at {
			t.Errorf("GameTime() = %v, want %v", got, c.at)
		}
	}
	g := getOK(t, s, "/liveclientdata/allgamedata?eventID=13", liveclient.DecodeAllGameData)
	if got := eventIDs(g.Events.Events); !reflect.DeepEqual(got, []int{13}) {
		t.Errorf("allgamedata?eventID=13: events %v, want [13]", got)
	}
}

func TestScoresGrow(t *testing.T) {
	data := bridgetest.ReadFile(t, rankedCapture)
	want, err := liveclient.DecodeAllGameData(data)
	if err != nil {
		t.Fatal(err)
	}
	s, clock := newTestServer(t, Game{Capture: data})
	scores := func(name string) liveclient.Scores {
		return *getOK(t, s, "/liveclientdata/playerscores?summonerName="+url.QueryEscape(name), liveclient.DecodeScores)
	}
	if got := scores("RedeclawLol"); got != (liveclient.Scores{}) {
		t.Errorf("at 0:00: %+v, want all zero", got)
	}
	if ap := getOK(t, s, "/liveclientdata/activeplayer", liveclient.DecodeActivePlayer); ap.CurrentGold != startingGold {
		t.Errorf("at 0:00: gold %v, want %d", ap.CurrentGold, startingGold)
	}

	advanceTo(clock, 10*time.Minute)
	jax, zyra := scores("RedeclawLol"), scores("LugnutsK")
	if jax.Kills != 3 || jax.Deaths != 1 || jax.Assists != 0 || jax.CreepScore != 70 || zyra.Kills != 0 || zyra.Deaths != 1 || zyra.Assists != 1 {
		t.Errorf("at 10:00: jax %+v, zyra %+v; want 3/1/0 with 70 cs and 0/1/1", jax, zyra)
	}
	ap := getOK(t, s, "/liveclientdata/activeplayer", liveclient.DecodeActivePlayer)
	if ap.CurrentGold <= startingGold || ap.CurrentGold >= want.ActivePlayer.CurrentGold {
		t.Errorf("at 10:00: gold %v, want between %d and %v", ap.CurrentGold, startingGold, want.ActivePlayer.CurrentGold)
	}

	// At the capture's gameTime everything is as captured.
	advanceTo(clock, seconds(want.GameData.GameTime)+time.Millisecond)
	got := getOK(t, s, "/liveclientdata/allgamedata", liveclient.DecodeAllGameData)
	for i, p := range got.AllPlayers {
		if w := want.AllPlayers[i].Scores; p.Scores != w {
			t.Errorf("%s at the end: %+v, want the captured %+v", p.ID(), p.Scores, w)
		}
	}
	if got.ActivePlayer.CurrentGold != want.ActivePlayer.CurrentGold {
		t.Errorf("gold at the end: %v, want %v", got.ActivePlayer.CurrentGold, want.ActivePlayer.CurrentGold)
	}
}

// TestServesTheCapture: at the capture's moment the server serves the
// capture back, with GameEnd after its events and its members as captured:
// "Stolen" stays the string "False".
func TestServesTheCapture(t *testing.T) {
	for _, path := range []string{rankedCapture, practiceCapture} {
		data := bridgetest.ReadFile(t, path)
		want, err := liveclient.DecodeAllGameData(data)
		if err != nil {
			t.Fatal(err)
		}
		s, clock := newTestServer(t, Game{Capture: data})
		advanceTo(clock, seconds(want.GameData.GameTime)+time.Millisecond)
		r := get(t, s, "/liveclientdata/allgamedata")
		if !bytes.Contains(r.body, []byte(`"Stolen": "False"`)) {
			t.Errorf("%s: Stolen is not served as the string \"False\"", path)
		}
		got, err := liveclient.DecodeAllGameData(r.body)
		if err != nil {
			t.Fatal(err)
		}
		end := got.Events.Events[len(got.Events.Events)-1]
		if end.EventName != liveclient.EventGameEnd || end.Result != "Win" || end.EventID != len(want.Events.Events) {
			t.Errorf("%s: last event %+v, want GameEnd %d with Result Win", path, end, len(want.Events.Events))
		}
		got.Events.Events = got.Events.Events[:len(got.Events.Events)-1]
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: served at its gameTime, the capture differs", path)
		}
	}
}

func TestGameEndAndVanish(t *testing.T) {
	s, clock := newTestServer(t, Game{Capture: bridgetest.ReadFile(t, rankedCapture), EndAt: 20 * time.Minute, Result: "Lose", PostGameFor: 5 * time.Second})
	advanceTo(clock, 20*time.Minute-time.Second)
	evs := getOK(t, s, "/liveclientdata/eventdata", liveclient.DecodeEvents)
	if last := evs[len(evs)-1]; last.EventName == liveclient.EventGameEnd {
		t.Fatalf("GameEnd before EndAt: %+v", last)
	}
	advanceTo(clock, 20*time.Minute+3*time.Second)
	evs = getOK(t, s, "/liveclientdata/eventdata?eventID=41", liveclient.DecodeEvents)
	want := liveclient.Event{EventID: 43, EventName: liveclient.EventGameEnd, EventTime: 1200, Result: "Lose"}
	if got := eventIDs(evs); !reflect.DeepEqual(got, []int{41, 42, 43}) || !reflect.DeepEqual(evs[2], want) {
		t.Errorf("after the end: events %v ending %+v, want 41 to 43 ending %+v", got, evs[len(evs)-1], want)
	}
	if gt := getOK(t, s, "/liveclientdata/gamestats", liveclient.DecodeGameStats).GameTime; gt != 1200 {
		t.Errorf("post-game gameTime = %v, want it stopped at 1200", gt)
	}

	advanceTo(clock, 20*time.Minute+5*time.Second)
	for i := range 2 {
		resp, err := s.Client().Get(s.URL() + "/liveclientdata/gamestats")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("request %d after the post-game: %d, want no answer", i, resp.StatusCode)
		}
	}
	if _, err := tls.Dial("tcp", strings.TrimPrefix(s.URL(), "https://"), &tls.Config{InsecureSkipVerify: true}); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("dial after the API vanished: %v, want connection refused", err)
	}
}

func TestVanishMidGame(t *testing.T) {
	s, clock := newTestServer(t, Game{Capture: bridgetest.ReadFile(t, rankedCapture)})
	clock.Advance(5 * time.Minute)
	get(t, s, "/liveclientdata/gamestats") // leaves a kept-alive connection
	s.Vanish()
	s.Vanish()
	if resp, err := s.Client().Get(s.URL() + "/liveclientdata/gamestats"); err == nil {
		resp.Body.Close()
		t.Fatalf("after Vanish: %d, want no answer", resp.StatusCode)
	}
	s.Close()
	s.Close()
}

func TestSpectator(t *testing.T) {
	t.Run("spectated capture", func(t *testing.T) {
		s, clock := newTestServer(t, Game{Capture: bridgetest.ReadFile(t, spectatedCapture), Spectator: true})
		if gt := s.GameTime(); gt != seconds(480.60693359375) {
			t.Errorf("the game starts at %v, want at the 480.6 s join", gt)
		}
		for _, ep := range []string{"activeplayer", "activeplayername", "activeplayerabilities", "activeplayerrunes"} {
			r := get(t, s, "/liveclientdata/"+ep)
			if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"error": "Spectator mode doesn't currently support this feature"`)) {
				t.Errorf("%s: %d %s, want the spectator error", ep, r.status, r.body)
			}
		}
		if _, err := liveclient.DecodeActivePlayerName(get(t, s, "/liveclientdata/activeplayername").body); !errors.Is(err, liveclient.ErrNoActivePlayer) {
			t.Errorf("activeplayername decodes to %v, want ErrNoActivePlayer", err)
		}
		g := getOK(t, s, "/liveclientdata/allgamedata", liveclient.DecodeAllGameData)
		if g.ActivePlayer.Err == "" || eventIDs(g.Events.Events)[0] != 0 || g.Events.Events[0].EventName != liveclient.EventGameStart {
			t.Errorf("at the join: active player %+v, events %+v", g.ActivePlayer, g.Events.Events)
		}
		// Scores count the kills from before the join, which no event shows.
		pen := getOK(t, s, "/liveclientdata/playerscores?summonerName=PenelopeEdi1", liveclient.DecodeScores)
		if pen.Kills != 1 || pen.Deaths != 1 || pen.Assists != 0 {
			t.Errorf("PenelopeEdi1 at the join: %+v, want 1/1/0", pen)
		}
		clock.Advance(seconds(588.1959228515625-480.60693359375) + time.Millisecond)
		pen = getOK(t, s, "/liveclientdata/playerscores?summonerName=PenelopeEdi1", liveclient.DecodeScores)
		if pen.Kills != 2 || pen.Deaths != 2 || pen.Assists != 2 || pen.CreepScore != 60 {
			t.Errorf("PenelopeEdi1 at the capture's end: %+v, want the captured 2/2/2 with 60 cs", pen)
		}
	})
	t.Run("joining a player's capture", func(t *testing.T) {
		s, clock := newTestServer(t, Game{Capture: bridgetest.ReadFile(t, rankedCapture), Spectator: true, StartAt: 10 * time.Minute})
		clock.Advance(2 * time.Minute)
		evs := getOK(t, s, "/liveclientdata/eventdata", liveclient.DecodeEvents)
		want := []liveclient.Event{
			{EventID: 0, EventName: liveclient.EventGameStart, EventTime: 600},
			{EventID: 1, EventName: liveclient.EventDragonKill, EventTime: 715.0667114257812, KillerName: "pee woo woo", Assisters: []string{"LugnutsK"}, DragonType: "Fire"},
		}
		if !reflect.DeepEqual(evs, want) {
			t.Errorf("events = %+v, want %+v", evs, want)
		}
		jax := getOK(t, s, "/liveclientdata/playerscores?summonerName=RedeclawLol", liveclient.DecodeScores)
		if jax.Kills != 3 || jax.Deaths != 1 {
			t.Errorf("Jax at 12:00: %+v, want 3/1 counting the kills before the join", jax)
		}
	})
}

func TestLoading(t *testing.T) {
	s, clock := newTestServer(t, Game{Capture: bridgetest.ReadFile(t, rankedCapture), LoadingFor: 45 * time.Second, StartAt: time.Minute})
	for _, ep := range []string{"allgamedata", "eventdata", "gamestats", "activeplayername", "playerlist"} {
		r := get(t, s, "/liveclientdata/"+ep)
		var body struct {
			ErrorCode  string `json:"errorCode"`
			HTTPStatus int    `json:"httpStatus"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil || r.status != http.StatusNotFound || body.ErrorCode != "RESOURCE_NOT_FOUND" || body.HTTPStatus != 404 {
			t.Errorf("%s while loading: %d %s, want 404 RESOURCE_NOT_FOUND", ep, r.status, r.body)
		}
	}
	clock.Advance(45 * time.Second)
	if gt := getOK(t, s, "/liveclientdata/gamestats", liveclient.DecodeGameStats).GameTime; gt != 60 {
		t.Errorf("once loaded: gameTime %v, want StartAt's 60", gt)
	}
	if evs := getOK(t, s, "/liveclientdata/eventdata", liveclient.DecodeEvents); len(evs) != 1 {
		t.Errorf("once loaded at 1:00: %d events, want GameStart only", len(evs))
	}
}

func TestSpeed(t *testing.T) {
	s, clock := newTestServer(t, Game{Capture: bridgetest.ReadFile(t, rankedCapture), Speed: 60})
	clock.Advance(10 * time.Second)
	if gt := s.GameTime(); gt != 10*time.Minute {
		t.Errorf("10 s at speed 60: game time %v, want 10m", gt)
	}
}

// TestRiotIDs: RiotIDTag serves the capture as a client after the Riot ID
// change; the events still name players by game name.
func TestRiotIDs(t *testing.T) {
	s, clock := newTestServer(t, Game{Capture: bridgetest.ReadFile(t, practiceCapture), RiotIDTag: "EUW"})
	clock.Advance(5 * time.Minute)
	if name := getOK(t, s, "/liveclientdata/activeplayername", liveclient.DecodeActivePlayerName); name != "LugnutsK#EUW" {
		t.Errorf("activeplayername = %q, want LugnutsK#EUW", name)
	}
	g := getOK(t, s, "/liveclientdata/allgamedata", liveclient.DecodeAllGameData)
	me, bot := g.AllPlayers[0], g.AllPlayers[1]
	if me.RiotID != "LugnutsK#EUW" || me.RiotIDGameName != "LugnutsK" || me.RiotIDTagLine != "EUW" || me.SummonerName != "" {
		t.Errorf("player = %+v, want Riot ID fields and no summoner name", me)
	}
	if bot.RiotID != "" || bot.SummonerName != "Karthus Bot" {
		t.Errorf("bot = %+v, want its summoner name only", bot)
	}
	if g.ActivePlayer.ID() != "LugnutsK#EUW" || g.ActivePlayer.SummonerName != "" {
		t.Errorf("active player %q, summoner name %q", g.ActivePlayer.ID(), g.ActivePlayer.SummonerName)
	}
	kill := g.Events.Events[2]
	if p, ok := g.PlayerByName(kill.KillerName); !ok || p.ID() != "LugnutsK#EUW" {
		t.Errorf("the killer %q resolves to %+v, %v", kill.KillerName, p, ok)
	}
	if r := get(t, s, "/liveclientdata/playerscores?riotId=LugnutsK%23EUW"); r.status != http.StatusOK {
		t.Errorf("playerscores by Riot ID: %d %s", r.status, r.body)
	}
	if r := get(t, s, "/liveclientdata/playerscores?summonerName=LugnutsK"); r.status != http.StatusNotFound {
		t.Errorf("playerscores by the summoner name a new client dropped: %d, want 404", r.status)
	}
}

func TestEndpoints(t *testing.T) {
	s, clock := newTestServer(t, Game{Capture: bridgetest.ReadFile(t, rankedCapture)})
	clock.Advance(10 * time.Minute)
	if ps := getOK(t, s, "/liveclientdata/playerlist", liveclient.DecodePlayerList); len(ps) != 10 {
		t.Errorf("playerlist: %d players, want 10", len(ps))
	}
	chaos := getOK(t, s, "/liveclientdata/playerlist?teamID=CHAOS", liveclient.DecodePlayerList)
	if len(chaos) != 5 || chaos[0].Team != "CHAOS" {
		t.Errorf("playerlist?teamID=CHAOS: %d players, first of %s", len(chaos), chaos[0].Team)
	}
	if name := getOK(t, s, "/liveclientdata/activeplayername", liveclient.DecodeActivePlayerName); name != "LugnutsK" {
		t.Errorf("activeplayername = %q", name)
	}
	var abilities liveclient.Abilities
	var runes liveclient.FullRunes
	var items []liveclient.Item
	var spells liveclient.SummonerSpells
	var main liveclient.PlayerRunes
	for _, c := range []struct {
		path string
		v    any
	}{
		{"/liveclientdata/activeplayerabilities", &abilities},
		{"/liveclientdata/activeplayerrunes", &runes},
		{"/liveclientdata/playeritems?summonerName=RedeclawLol", &items},
		{"/liveclientdata/playersummonerspells?summonerName=redeclawlol", &spells},
		{"/liveclientdata/playermainrunes?summonerName=RedeclawLol", &main},
	} {
		r := get(t, s, c.path)
		if err := json.Unmarshal(r.body, c.v); r.status != http.StatusOK || err != nil {
			t.Errorf("%s: %d %v", c.path, r.status, err)
		}
	}
	if abilities.R.ID != "ZyraR" || runes.Keystone.ID != 8229 || len(items) != 7 || spells.SummonerSpellOne.DisplayName != "Teleport" || main.Keystone.ID != 8010 {
		t.Errorf("abilities %+v, runes %+v, %d items, spells %+v, runes %+v", abilities.R, runes.Keystone, len(items), spells, main.Keystone)
	}

	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/liveclientdata/playerscores", 400, "INVALID_REQUEST"},
		{http.MethodGet, "/liveclientdata/playerscores?summonerName=nobody", 404, "RESOURCE_NOT_FOUND"},
		{http.MethodGet, "/liveclientdata/playerscores?riotId=RedeclawLol%23EUW", 404, "RESOURCE_NOT_FOUND"},
		{http.MethodGet, "/liveclientdata/eventdata?eventID=x", 400, "INVALID_REQUEST"},
		{http.MethodGet, "/liveclientdata/nothing", 404, "RESOURCE_NOT_FOUND"},
		{http.MethodGet, "/swagger/v3/openapi.json", 404, "RESOURCE_NOT_FOUND"},
		{http.MethodPost, "/liveclientdata/gamestats", 405, "METHOD_NOT_ALLOWED"},
	} {
		req, err := http.NewRequest(c.method, s.URL()+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !bytes.Contains(body, []byte(`"errorCode": "`+c.code+`"`)) {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, resp.StatusCode, body, c.status, c.code)
		}
	}
}

func TestFaults(t *testing.T) {
	for _, c := range []struct {
		fault       Fault
		status      int
		contentType string
		wantErr     string // of liveclient.DecodeGameStats, "" for none
	}{
		{Fault{Kind: Malformed}, 200, "application/json", "gamestats: invalid JSON at byte 54: invalid character '\\x01' "},
		{Fault{Kind: Truncated}, 200, "application/json", "gamestats: invalid JSON at byte 54: unexpected end of input"},
		{Fault{Kind: HTMLPage}, 200, "text/html; charset=utf-8", "gamestats: invalid JSON at byte 0: invalid character '<' at start of value"},
		{Fault{Kind: HTMLPage, Status: http.StatusBadGateway}, 502, "text/html; charset=utf-8", "gamestats: invalid JSON at byte 0"},
		{Fault{Kind: ServerError}, 500, "application/json", `gamestats: no "gameTime" member`},
		{Fault{Kind: Malformed, Endpoint: "eventdata"}, 200, "application/json", ""},
	} {
		t.Run(fmt.Sprintf("%d %s %d", c.fault.Kind, c.fault.Endpoint, c.fault.Status), func(t *testing.T) {
			s, _ := newTestServer(t, Game{Capture: bridgetest.ReadFile(t, rankedCapture)})
			c.fault.Count = 2
			s.Inject(c.fault)
			for i := range 2 {
				r := get(t, s, "/liveclientdata/gamestats")
				_, err := liveclient.DecodeGameStats(r.body)
				if r.status != c.status || r.header.Get("Content-Type") != c.contentType ||
					c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), c.wantErr)) {
					t.Errorf("request %d: %d %s, %v; want %d %s, %s", i, r.status, r.header.Get("Content-Type"), err, c.status, c.contentType, c.wantErr)
				}
			}
			if r := get(t, s, "/liveclientdata/gamestats"); r.status != http.StatusOK {
				t.Errorf("after the faults: %d", r.status)
			}
			if want := 2 * btoi(c.fault.Endpoint == ""); s.Stats().Faults != want {
				t.Errorf("Stats().Faults = %d, want %d", s.Stats().Faults, want)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSlowFault: a slow answer waits on the server's clock, and is made
// when it is sent; a client that gives up does not keep it waiting.
func TestSlowFault(t *testing.T) {
	s, clock := newTestServer(t, Game{Capture: bridgetest.ReadFile(t, rankedCapture)})
	s.Inject(Fault{Kind: Slow, Endpoint: "gamestats", Delay: 30 * time.Second, Count: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // a deadlock guard, never reached
	defer cancel()

	answered := make(chan response)
	go func() {
		r := get(t, s, "/liveclientdata/gamestats")
		answered <- r
	}()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-answered:
		t.Fatalf("answered before the delay: %d", r.status)
	default:
	}
	clock.Advance(30 * time.Second)
	r := <-answered
	if stats, err := liveclient.DecodeGameStats(r.body); err != nil || stats.GameTime != 30 {
		t.Errorf("slow answer: %+v, %v; want game time 30 s, when it was sent", stats, err)
	}

	// The second slow request is given up on.
	reqCtx, giveUp := context.WithCancel(ctx)
	failed := make(chan error)
	go func() {
		req, _ := http.NewRequestWithContext(reqCtx, http.MethodGet, s.URL()+"/liveclientdata/gamestats", nil)
		resp, err := s.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		failed <- err
	}()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	giveUp()
	if err := <-failed; !errors.Is(err, context.Canceled) {
		t.Errorf("given-up request: %v, want context.Canceled", err)
	}
}

func TestStats(t *testing.T) {
	s, clock := newTestServer(t, Game{Capture: bridgetest.ReadFile(t, rankedCapture)})
	clock.Advance(10 * time.Minute)
	for _, path := range []string{
		"/liveclientdata/eventdata", "/liveclientdata/eventdata?eventID=0", "/liveclientdata/eventdata?eventID=13",
		"/liveclientdata/eventdata?eventID=7", "/liveclientdata/gamestats", "/liveclientdata/allgamedata?eventID=99",
	} {
		get(t, s, path)
	}
	st := s.Stats()
	if want := map[string]int{"/liveclientdata/eventdata": 4, "/liveclientdata/gamestats": 1, "/liveclientdata/allgamedata": 1}; !reflect.DeepEqual(st.Requests, want) {
		t.Errorf("Requests = %v, want %v", st.Requests, want)
	}
	if want := []int{-1, 0, 13, 7}; !reflect.DeepEqual(st.EventIDs, want) || st.MaxEventID != 13 {
		t.Errorf("EventIDs = %v, max %d; want %v, max 13", st.EventIDs, st.MaxEventID, want)
	}
	st.Requests["x"] = 1
	if s.Stats().Requests["x"] != 0 {
		t.Error("Stats() shares its map with the server")
	}
}

// TestCertificates: the server's chain is shaped like the game client's, a
// leaf for CommonName rclient without any subjectAltName under an X.509 v1
// root self-signed with SHA-1, and WithUntrustedLeaf signs the leaf with
// another root.
func TestCertificates(t *testing.T) {
	for _, untrusted := range []bool{false, true} {
		var opts []Option
		if untrusted {
			opts = append(opts, WithUntrustedLeaf())
		}
		s, _ := newTestServer(t, Game{Capture: bridgetest.ReadFile(t, practiceCapture)}, opts...)
		conn, err := tls.Dial("tcp", strings.TrimPrefix(s.URL(), "https://"), &tls.Config{InsecureSkipVerify: true}) // the point is to look
		if err != nil {
			t.Fatal(err)
		}
		chain := conn.ConnectionState().PeerCertificates
		conn.Close()
		leaf := chain[0]
		if len(chain) != 1 || leaf.Subject.CommonName != "rclient" || len(leaf.DNSNames) != 0 || len(leaf.IPAddresses) != 0 {
			t.Errorf("untrusted %v: chain of %d, leaf %q with SANs %v %v; want one leaf rclient without SANs",
				untrusted, len(chain), leaf.Subject.CommonName, leaf.DNSNames, leaf.IPAddresses)
		}
		block, _ := pem.Decode(s.CAPEM())
		root, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if root.Version != 1 || root.BasicConstraintsValid || len(root.Extensions) != 0 || root.SignatureAlgorithm != x509.SHA1WithRSA {
			t.Errorf("root: version %d with %d extensions, %v; want v1 without any, self-signed with SHA-1 like Riot's",
				root.Version, len(root.Extensions), root.SignatureAlgorithm)
		}
		if leaf.SignatureAlgorithm != x509.SHA256WithRSA {
			t.Errorf("leaf signed with %v, want SHA256-RSA", leaf.SignatureAlgorithm)
		}
		signed := leaf.CheckSignatureFrom(root) == nil
		if signed == untrusted {
			t.Errorf("untrusted %v: leaf signed by CAPEM's root: %v", untrusted, signed)
		}
		resp, err := s.Client().Get(s.URL() + "/liveclientdata/gamestats")
		if err == nil {
			resp.Body.Close()
		}
		if (err == nil) == untrusted {
			t.Errorf("untrusted %v: pinned client: %v", untrusted, err)
		}
	}
}

// fatalTB records the failure New reports and stops it like t.Fatal does.
type fatalTB struct {
	testing.TB
	msg string
}

type fatal struct{}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(fatal{})
}

func TestBadGame(t *testing.T) {
	for _, c := range []struct {
		game Game
		want string
	}{
		{Game{Capture: []byte(`{"activePlayer": `)}, "lctest: capture: allgamedata: invalid JSON at byte 17: unexpected end of input"},
		{Game{Capture: bridgetest.ReadFile(t, rankedCapture), StartAt: 20 * time.Minute, EndAt: 10 * time.Minute}, "lctest: the game ends at 600.0 s, before it starts at 1200.0 s"},
		{Game{Capture: bridgetest.ReadFile(t, rankedCapture), Speed: -1}, "lctest: speed -1 is negative"},
	} {
		tb := &fatalTB{TB: t}
		func() {
			defer func() {
				if r := recover(); r != nil && r != (fatal{}) {
					panic(r)
				}
			}()
			New(tb, c.game)
			t.Errorf("New(%+v) did not fail", c.game)
		}()
		if tb.msg != c.want {
			t.Errorf("New failed with %q, want %q", tb.msg, c.want)
		}
	}
}
