package liveclient

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
)

const (
	rankedCapture    = "testdata/allgamedata_ranked_00.json"
	spectatedCapture = "testdata/allgamedata_spectate_ranked_00.json"
	practiceCapture  = "testdata/allgamedata_practice_01.json"
)

var captures = []string{rankedCapture, spectatedCapture, practiceCapture}

func decodeFixture(tb testing.TB, path string) *AllGameData {
	tb.Helper()
	g, err := DecodeAllGameData(bridgetest.ReadFile(tb, path))
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func TestDecodeRanked(t *testing.T) {
	g := decodeFixture(t, rankedCapture)
	if got := len(g.AllPlayers); got != 10 {
		t.Fatalf("players = %d, want 10", got)
	}
	if got := len(g.Events.Events); got != 88 {
		t.Fatalf("events = %d, want 88", got)
	}
	if want := (GameStats{GameMode: "CLASSIC", GameTime: 1762.9317626953125, MapName: "Map11", MapNumber: 11, MapTerrain: "Mountain"}); g.GameData != want {
		t.Errorf("gameData = %+v, want %+v", g.GameData, want)
	}

	ap := g.ActivePlayer
	if ap.Err != "" || ap.ID() != "LugnutsK" || ap.Level != 13 || ap.CurrentGold != 1605.6768798828126 {
		t.Errorf("active player: err %q id %q level %d gold %v, want LugnutsK at 13 with 1605.68 gold", ap.Err, ap.ID(), ap.Level, ap.CurrentGold)
	}
	cs := ap.ChampionStats
	if cs.AbilityHaste != 38 || cs.MagicPenetrationFlat != 18 || cs.ResourceType != "MANA" || cs.CritDamage != 175 || cs.MaxHealth != 1547.285400390625 {
		t.Errorf("championStats = %+v", cs)
	}
	if ap.Abilities == nil || ap.Abilities.Q.AbilityLevel != 1 || ap.Abilities.E.AbilityLevel != 5 || ap.Abilities.Passive.ID != "ZyraP" {
		t.Errorf("abilities = %+v, want Q 1, E 5, passive ZyraP", ap.Abilities)
	}
	if r := ap.FullRunes; r.Keystone.ID != 8229 || len(r.GeneralRunes) != 6 || len(r.StatRunes) != 3 || r.StatRunes[0].ID != 5007 {
		t.Errorf("fullRunes = %+v", r)
	}

	jax := g.AllPlayers[0]
	if jax.ID() != "RedeclawLol" || jax.Team != "ORDER" || jax.Position != "TOP" || jax.Level != 18 || jax.IsBot {
		t.Errorf("player 0 = %+v", jax)
	}
	if want := (Scores{Kills: 16, Deaths: 3, Assists: 6, CreepScore: 230, WardScore: 23.447338104248048}); jax.Scores != want {
		t.Errorf("jax scores = %+v, want %+v", jax.Scores, want)
	}
	if it := jax.Items[0]; it.ItemID != 6333 || it.DisplayName != "Death's Dance" || it.Price != 325 || it.Slot != 0 || it.Count != 1 {
		t.Errorf("jax item 0 = %+v, want Death's Dance at its 325 recipe cost", it)
	}
	if s := jax.SummonerSpells; s.SummonerSpellOne.DisplayName != "Teleport" || s.SummonerSpellTwo.DisplayName != "Flash" {
		t.Errorf("jax spells = %+v", s)
	}
	if jax.Runes.Keystone.ID != 8010 {
		t.Errorf("jax keystone = %d, want 8010", jax.Runes.Keystone.ID)
	}
	if talon := g.AllPlayers[1]; !talon.IsDead || talon.RespawnTimer != 27.580324172973634 {
		t.Errorf("talon dead %v for %v s, want dead for 27.58 s", talon.IsDead, talon.RespawnTimer)
	}
	if cait := g.AllPlayers[3]; cait.SkinID != 19 || cait.SkinName != "Arcade Caitlyn" {
		t.Errorf("caitlyn skin %d %q", cait.SkinID, cait.SkinName)
	}

	ev := g.Events.Events
	checks := []struct {
		i    int
		want Event
	}{
		{3, Event{EventID: 3, EventName: EventFirstBlood, EventTime: 128.52207946777344, Recipient: "baked mankey"}},
		{6, Event{EventID: 6, EventName: EventDragonKill, EventTime: 351.5537414550781, KillerName: "pee woo woo", Assisters: []string{"LugnutsK"}, DragonType: "Air"}},
		{17, Event{EventID: 17, EventName: EventMultikill, EventTime: 745.4482421875, KillerName: "RedeclawLol", KillStreak: 2}},
		{18, Event{EventID: 18, EventName: EventTurretKilled, EventTime: 780.0806884765625, KillerName: "RedeclawLol", Assisters: []string{}, TurretKilled: "Turret_T2_L_03_A"}},
		{19, Event{EventID: 19, EventName: EventFirstBrick, EventTime: 780.0806884765625, KillerName: "RedeclawLol"}},
		{24, Event{EventID: 24, EventName: EventHeraldKill, EventTime: 887.2806396484375, KillerName: "Ryan2958p", Assisters: []string{}}},
		{86, Event{EventID: 86, EventName: EventAce, EventTime: 1742.99560546875, Acer: "LugnutsK", AcingTeam: "ORDER"}},
		{87, Event{EventID: 87, EventName: EventInhibKilled, EventTime: 1757.4864501953125, KillerName: "RedeclawLol", Assisters: []string{"LugnutsK"}, InhibKilled: "Barracks_T2_C1"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(ev[c.i], c.want) {
			t.Errorf("event %d = %+v, want %+v", c.i, ev[c.i], c.want)
		}
	}
}

// TestDecodeSpectated: a spectator's client has no active player, only an
// error object, and its events start when the spectator joined.
func TestDecodeSpectated(t *testing.T) {
	g := decodeFixture(t, spectatedCapture)
	ap := g.ActivePlayer
	if ap.Err != "Spectator mode doesn't currently support this feature" {
		t.Errorf("activePlayer.Err = %q, want the spectator error", ap.Err)
	}
	if ap.ID() != "" || ap.Abilities != nil || ap.Level != 0 || ap.CurrentGold != 0 {
		t.Errorf("spectator's active player = %+v, want nothing but Err", ap)
	}
	if first := g.Events.Events[0]; first.EventID != 0 || first.EventName != EventGameStart || first.EventTime != 480.60693359375 {
		t.Errorf("first event = %+v, want GameStart 0 at the 480.6 s join", first)
	}
	if len(g.AllPlayers) != 10 || g.GameData.GameTime != 588.1959228515625 {
		t.Errorf("%d players at %v s, want 10 at 588.2 s", len(g.AllPlayers), g.GameData.GameTime)
	}
}

func TestDecodePractice(t *testing.T) {
	g := decodeFixture(t, practiceCapture)
	if g.GameData.GameMode != "PRACTICETOOL" || len(g.AllPlayers) != 2 {
		t.Fatalf("%s with %d players, want PRACTICETOOL with 2", g.GameData.GameMode, len(g.AllPlayers))
	}
	bot := g.AllPlayers[1]
	if !bot.IsBot || bot.SummonerName != "Karthus Bot" || bot.Team != "CHAOS" || bot.Position != "" {
		t.Errorf("bot = %+v", bot)
	}
	if pen := g.ActivePlayer.ChampionStats.MagicPenetrationPercent; pen != 0.6000000238418579 {
		t.Errorf("magicPenetrationPercent = %v, want 0.6 (Void Staff)", pen)
	}
	byID := map[int]Event{}
	for _, e := range g.Events.Events {
		byID[e.EventID] = e
	}
	if e := byID[41]; e.DragonType != "Elder" {
		t.Errorf("event 41 = %+v, want an Elder dragon", e)
	}
	if e := byID[23]; e.EventName != EventInhibRespawningSoon || e.InhibRespawningSoon != "Barracks_T2_C1" {
		t.Errorf("event 23 = %+v", e)
	}
	if e := byID[24]; e.EventName != EventInhibRespawned || e.InhibRespawned != "Barracks_T2_C1" {
		t.Errorf("event 24 = %+v", e)
	}
}

// TestModelCoversCaptures: every member of every captured object lands in
// a field, so nothing the client sends is dropped unnoticed, and every
// numeric championStats member decodes to its value.
func TestModelCoversCaptures(t *testing.T) {
	for _, path := range captures {
		var raw struct {
			ActivePlayer map[string]any   `json:"activePlayer"`
			AllPlayers   []map[string]any `json:"allPlayers"`
			Events       struct {
				Events []map[string]any `json:"Events"`
			} `json:"events"`
			GameData map[string]any `json:"gameData"`
		}
		data := bridgetest.ReadFile(t, path)
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatal(err)
		}
		g := decodeFixture(t, path)
		checkMembers(t, path+" activePlayer", raw.ActivePlayer, reflect.TypeFor[ActivePlayer]())
		for i, p := range raw.AllPlayers {
			checkMembers(t, path+" player", p, reflect.TypeFor[Player]())
			for _, it := range p["items"].([]any) {
				checkMembers(t, path+" item", it.(map[string]any), reflect.TypeFor[Item]())
			}
			checkMembers(t, path+" scores", p["scores"].(map[string]any), reflect.TypeFor[Scores]())
			if g.AllPlayers[i].ID() == "" {
				t.Errorf("%s: player %d has no ID", path, i)
			}
		}
		for i, e := range raw.Events.Events {
			checkMembers(t, path+" event", e, reflect.TypeFor[Event]())
			if len(g.Events.Events[i].Extra) != 0 {
				t.Errorf("%s: event %d has unknown members %v", path, i, g.Events.Events[i].Extra)
			}
		}
		checkMembers(t, path+" gameData", raw.GameData, reflect.TypeFor[GameStats]())

		stats, ok := raw.ActivePlayer["championStats"].(map[string]any)
		if !ok {
			continue // the spectator has none
		}
		checkMembers(t, path+" championStats", stats, reflect.TypeFor[ChampionStats]())
		got := reflect.ValueOf(g.ActivePlayer.ChampionStats)
		for i := range got.NumField() {
			name := jsonName(got.Type().Field(i))
			want, sent := stats[name]
			if !sent {
				continue
			}
			if f := got.Field(i); f.Kind() == reflect.Float64 && f.Float() != want.(float64) {
				t.Errorf("%s: championStats.%s = %v, want %v", path, name, f.Float(), want)
			}
		}
	}
}

func checkMembers(t *testing.T, what string, obj map[string]any, typ reflect.Type) {
	t.Helper()
	known := map[string]bool{}
	for i := range typ.NumField() {
		known[jsonName(typ.Field(i))] = true
	}
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		if !known[name] {
			t.Errorf("%s: member %q has no field in %s", what, name, typ)
		}
	}
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// TestStolen: the client writes Stolen as the string "True" or "False";
// a real boolean is taken too.
func TestStolen(t *testing.T) {
	for _, c := range []struct {
		json    string
		want    bool
		wantErr string
	}{
		{`"False"`, false, ""},
		{`"True"`, true, ""},
		{`"true"`, true, ""},
		{`true`, true, ""},
		{`false`, false, ""},
		{`null`, false, ""},
		{`"Yes"`, false, `eventdata: invalid value at byte 22 (/Events/0/Stolen): want a boolean or "True" or "False", got "Yes"`},
		{`1`, false, `eventdata: invalid value at byte 22 (/Events/0/Stolen): want a boolean, got a number`},
	} {
		evs, err := DecodeEvents([]byte(`{"Events":[{"Stolen": ` + c.json + `}]}`))
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr || !errors.Is(err, ErrMalformed) {
				t.Errorf("Stolen %s: err = %v, want %s", c.json, err, c.wantErr)
			}
			continue
		}
		if err != nil || evs[0].Stolen != c.want {
			t.Errorf("Stolen %s = %v, %v; want %v", c.json, evs, err, c.want)
		}
	}
	g := decodeFixture(t, rankedCapture)
	for _, e := range g.Events.Events {
		if e.Stolen {
			t.Errorf("event %d: Stolen, but the capture says \"False\" everywhere", e.EventID)
		}
	}
}

// TestIntegers: integers written as floats (3.0) are taken; fractions and
// other kinds are refused rather than truncated.
func TestIntegers(t *testing.T) {
	for _, c := range []struct {
		json    string
		want    int
		wantErr string
	}{
		{`7`, 7, ""},
		{`3.0`, 3, ""},
		{`1e2`, 100, ""},
		{`-0.0`, 0, ""},
		{`null`, 0, ""},
		{`3.5`, 0, "want an integer, got 3.5"},
		{`1e300`, 0, "want an integer, got 1e300"},
		{`9223372036854775808`, 0, "want an integer, got 9223372036854775808"},
		{`"3"`, 0, "want an integer, got a string"},
	} {
		s, err := DecodeScores([]byte(`{"creepScore": ` + c.json + `, "kills": 0, "deaths": 0, "assists": 0}`))
		if c.wantErr != "" {
			want := "playerscores: invalid value at byte 15 (/creepScore): " + c.wantErr
			if err == nil || err.Error() != want {
				t.Errorf("creepScore %s: err = %v, want %s", c.json, err, want)
			}
			continue
		}
		if err != nil || s.CreepScore != c.want {
			t.Errorf("creepScore %s = %+v, %v; want %d", c.json, s, err, c.want)
		}
	}
}

// TestRiotIDs: newer clients send riotId and its parts, and may leave
// summonerName out.
func TestRiotIDs(t *testing.T) {
	doc := `{"activePlayer": {"championStats": {}, "level": 1, "riotId": "Faker#KR1", "riotIdGameName": "Faker", "riotIdTagLine": "KR1"},
		"allPlayers": [{"championName": "Ahri", "riotId": "Faker#KR1", "riotIdGameName": "Faker", "riotIdTagLine": "KR1", "team": "CHAOS"}],
		"events": {"Events": []}, "gameData": {"gameTime": 1.0}}`
	g, err := DecodeAllGameData([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	p := g.AllPlayers[0]
	if p.ID() != "Faker#KR1" || p.RiotIDGameName != "Faker" || p.RiotIDTagLine != "KR1" || p.SummonerName != "" {
		t.Errorf("player = %+v, want Faker#KR1 without summoner name", p)
	}
	if g.ActivePlayer.ID() != "Faker#KR1" {
		t.Errorf("active player ID = %q, want Faker#KR1", g.ActivePlayer.ID())
	}
	if found, ok := g.PlayerByName(g.ActivePlayer.ID()); !ok || found != &g.AllPlayers[0] {
		t.Errorf("the active player is not found among the players")
	}
}

func TestDecodeErrors(t *testing.T) {
	ranked := bridgetest.ReadFile(t, rankedCapture)
	big := append([]byte(`{"activePlayer":{},"allPlayers":[],"events":{},"gameData":{"x":"`), bytes.Repeat([]byte("a"), MaxBody)...)
	big = append(big, `"}}`...)
	for _, c := range []struct {
		name string
		in   []byte
		want string
		is   error
	}{
		{"truncated", ranked[:1234], "allgamedata: invalid JSON at byte 1234: unexpected end of input", ErrMalformed},
		{"truncated after a BOM", append([]byte("\xEF\xBB\xBF"), ranked[:1234]...), "allgamedata: invalid JSON at byte 1237: unexpected end of input", ErrMalformed},
		{"html page", []byte("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>"), "allgamedata: invalid JSON at byte 0: invalid character '<' at start of value", ErrMalformed},
		{"trailing garbage", []byte(`{"a": 1} x`), "allgamedata: invalid JSON at byte 9: invalid character 'x' after top-level value", ErrMalformed},
		{"wrong type", []byte(`{"allPlayers": 5}`), "allgamedata: invalid value at byte 15 (/allPlayers): cannot unmarshal JSON number into []liveclient.Player", ErrMalformed},
		{"float level", []byte(`{"allPlayers": [{"level": 3.5}]}`), "allgamedata: invalid value at byte 26 (/allPlayers/0/level): want an integer, got 3.5", ErrMalformed},
		{"empty", nil, "allgamedata: empty body", ErrNotDocument},
		{"blank", []byte(" \r\n\t"), "allgamedata: empty body", ErrNotDocument},
		{"BOM only", []byte("\xEF\xBB\xBF"), "allgamedata: empty body", ErrNotDocument},
		{"array", []byte(`[{"gameData": {}}]`), "allgamedata: top-level JSON is an array, want an object", ErrNotDocument},
		{"null", []byte(`null`), "allgamedata: top-level JSON is null, want an object", ErrNotDocument},
		{"error body", []byte(`{"errorCode": "RESOURCE_NOT_FOUND", "httpStatus": 404, "message": "No resource found"}`), `allgamedata: no "activePlayer" member`, ErrNotDocument},
		{"null member", []byte(`{"activePlayer": {}, "allPlayers": [], "events": {}, "gameData": null}`), `allgamedata: no "gameData" member`, ErrNotDocument},
		{"UTF-16", []byte("\xFF\xFE{\x00}\x00"), "allgamedata: invalid JSON at byte 0: invalid character '\\xff' at start of value", ErrMalformed},
		{"over the cap", big, fmt.Sprintf("allgamedata: body of %d bytes is over the 4 MiB cap", len(big)), ErrTooLarge},
	} {
		g, err := DecodeAllGameData(c.in)
		if err == nil {
			t.Errorf("%s: decoded %+v, want an error", c.name, g)
			continue
		}
		if err.Error() != c.want || !errors.Is(err, c.is) {
			t.Errorf("%s:\n got %v\nwant %s (%v)", c.name, err, c.want, c.is)
		}
	}
}

// TestOtherDecoders covers each endpoint's decoder on a document cut from
// the ranked capture, and what sets each apart.
func TestOtherDecoders(t *testing.T) {
	docs := rankedParts(t, -1, -1)
	if evs, err := DecodeEvents(docs["eventdata"]); err != nil || len(evs) != 88 {
		t.Errorf("eventdata: %d events, %v; want 88", len(evs), err)
	}
	if ap, err := DecodeActivePlayer(docs["activeplayer"]); err != nil || ap.ID() != "LugnutsK" {
		t.Errorf("activeplayer: %+v, %v", ap, err)
	}
	if ap, err := DecodeActivePlayer(append([]byte("\xEF\xBB\xBF"), docs["activeplayer"]...)); err != nil || ap.ID() != "LugnutsK" {
		t.Errorf("activeplayer after a BOM: %+v, %v", ap, err)
	}
	if ap, err := DecodeActivePlayer([]byte(`{"error": "Spectator mode doesn't currently support this feature"}`)); err != nil || ap.Err == "" {
		t.Errorf("spectator's activeplayer: %+v, %v; want Err set", ap, err)
	}
	if ps, err := DecodePlayerList(docs["playerlist"]); err != nil || len(ps) != 10 {
		t.Errorf("playerlist: %d players, %v; want 10", len(ps), err)
	}
	if s, err := DecodeGameStats(docs["gamestats"]); err != nil || s.GameTime != 1762.9317626953125 {
		t.Errorf("gamestats: %+v, %v", s, err)
	}
	if s, err := DecodeScores(docs["playerscores"]); err != nil || s.Kills != 16 {
		t.Errorf("playerscores: %+v, %v", s, err)
	}
	if name, err := DecodeActivePlayerName(docs["activeplayername"]); err != nil || name != "LugnutsK" {
		t.Errorf("activeplayername: %q, %v", name, err)
	}

	for _, c := range []struct {
		decode func([]byte) error
		in     string
		want   string
		is     error
	}{
		{events, `{"Events": null}`, `eventdata: no "Events" member`, ErrNotDocument},
		{events, `[]`, `eventdata: top-level JSON is an array, want an object`, ErrNotDocument},
		{activePlayer, `{"errorCode": "RESOURCE_NOT_FOUND"}`, `activeplayer: no "championStats" member`, ErrNotDocument},
		{playerList, `{}`, `playerlist: top-level JSON is an object, want an array`, ErrNotDocument},
		{gameStats, `{"gameMode": "CLASSIC"}`, `gamestats: no "gameTime" member`, ErrNotDocument},
		{scores, `{"kills": 1, "deaths": 2}`, `playerscores: no "assists" member`, ErrNotDocument},
		{activePlayerName, `{"error": "Spectator mode doesn't currently support this feature"}`,
			`activeplayername: no active player: Spectator mode doesn't currently support this feature`, ErrNoActivePlayer},
		{activePlayerName, `{"errorCode": "RESOURCE_NOT_FOUND"}`, `activeplayername: top-level JSON is an object without "error", want a string`, ErrNotDocument},
		{activePlayerName, `42`, `activeplayername: top-level JSON is a number, want a string`, ErrNotDocument},
	} {
		err := c.decode([]byte(c.in))
		if err == nil || err.Error() != c.want || !errors.Is(err, c.is) {
			t.Errorf("%s:\n got %v\nwant %s (%v)", c.in, err, c.want, c.is)
		}
	}
}

func events(b []byte) error           { _, err := DecodeEvents(b); return err }
func activePlayer(b []byte) error     { _, err := DecodeActivePlayer(b); return err }
func activePlayerName(b []byte) error { _, err := DecodeActivePlayerName(b); return err }
func playerList(b []byte) error       { _, err := DecodePlayerList(b); return err }
func gameStats(b []byte) error        { _, err := DecodeGameStats(b); return err }
func scores(b []byte) error           { _, err := DecodeScores(b); return err }

// rankedParts cuts the ranked capture into the documents of the other
// endpoints, keyed by endpoint, with its first players and events (all of
// them for -1).
func rankedParts(t *testing.T, players, events int) map[string][]byte {
	t.Helper()
	var raw struct {
		ActivePlayer jsontext.Value   `json:"activePlayer"`
		AllPlayers   []jsontext.Value `json:"allPlayers"`
		Events       struct {
			Events []jsontext.Value `json:"Events"`
		} `json:"events"`
		GameData jsontext.Value `json:"gameData"`
	}
	if err := json.Unmarshal(bridgetest.ReadFile(t, rankedCapture), &raw); err != nil {
		t.Fatal(err)
	}
	var jax struct {
		Scores jsontext.Value `json:"scores"`
	}
	if err := json.Unmarshal(raw.AllPlayers[0], &jax); err != nil {
		t.Fatal(err)
	}
	if players >= 0 {
		raw.AllPlayers = raw.AllPlayers[:players]
	}
	if events >= 0 {
		raw.Events.Events = raw.Events.Events[:events]
	}
	list, err := json.Marshal(raw.AllPlayers)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := json.Marshal(raw.Events)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"eventdata":        evs,
		"activeplayer":     raw.ActivePlayer,
		"activeplayername": []byte(`"LugnutsK"`),
		"playerlist":       list,
		"gamestats":        raw.GameData,
		"playerscores":     jax.Scores,
	}
}

func TestBOM(t *testing.T) {
	data := bridgetest.ReadFile(t, rankedCapture)
	plain, err := DecodeAllGameData(data)
	if err != nil {
		t.Fatal(err)
	}
	withBOM, err := DecodeAllGameData(append([]byte("\xEF\xBB\xBF"), data...))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plain, withBOM) {
		t.Error("a capture decodes differently with a byte order mark")
	}
}

// TestEveryPrefix: every prefix of a document, as a connection cut short
// delivers it, decodes or fails with one line, never panics; only the
// whole document (give or take trailing space) decodes.
//
// Each prefix is decoded from scratch, so the cost grows with the square
// of the size. Every prefix is tried for a small document of each endpoint,
// allgamedata included, which between them hold every field type; the
// captures themselves are cut near both ends and every 499th byte between.
func TestEveryPrefix(t *testing.T) {
	docs := rankedParts(t, 1, 6)
	docs["allgamedata"] = []byte(`{"activePlayer":` + string(docs["activeplayer"]) + `,"allPlayers":` + string(docs["playerlist"]) +
		`,"events":` + string(docs["eventdata"]) + `,"gameData":` + string(docs["gamestats"]) + "}\n")
	decodeAll := func(b []byte) error { _, err := DecodeAllGameData(b); return err }
	cases := map[string]func([]byte) error{
		"allgamedata": decodeAll, "eventdata": events, "activeplayer": activePlayer, "activeplayername": activePlayerName,
		"playerlist": playerList, "gamestats": gameStats, "playerscores": scores,
	}
	for _, path := range captures {
		docs[path], cases[path] = bridgetest.ReadFile(t, path), decodeAll
	}
	for name, decode := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			doc := docs[name]
			whole := len(bytes.TrimRight(doc, " \t\r\n"))
			sampled := strings.HasPrefix(name, "testdata/")
			for n := range len(doc) + 1 {
				if sampled && n > 1<<10 && n < len(doc)-256 && n%499 != 0 {
					continue
				}
				err := decode(doc[:n])
				switch {
				case n >= whole && err != nil:
					t.Fatalf("the whole document (%d of %d bytes) fails: %v", n, len(doc), err)
				case n < whole && err == nil:
					t.Fatalf("a %d-byte prefix of %d decodes", n, len(doc))
				case err != nil && (strings.Contains(err.Error(), "\n") || !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotDocument)):
					t.Fatalf("prefix of %d bytes: %q, want one line wrapping ErrMalformed or ErrNotDocument", n, err)
				}
			}
		})
	}
}

// FuzzDecodeAllGameData: whatever arrives decodes or fails with one line
// naming the endpoint, and what decodes survives a round trip.
func FuzzDecodeAllGameData(f *testing.F) {
	for _, path := range captures {
		f.Add(bridgetest.ReadFile(f, path))
	}
	f.Add([]byte(`{"activePlayer":{"error":"x"},"allPlayers":[],"events":{"Events":[{"Stolen":"True","EventID":1.0,"X":[1]}]},"gameData":{"gameTime":1}}`))
	f.Add([]byte("\xEF\xBB\xBF[]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := DecodeAllGameData(data)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "allgamedata: ") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q is not one line naming the endpoint", msg)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotDocument) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %q wraps no sentinel", msg)
			}
			return
		}
		again, err := json.Marshal(g)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if _, err := DecodeAllGameData(again); err != nil {
			t.Fatalf("decode the re-encoded document: %v", err)
		}
	})
}
