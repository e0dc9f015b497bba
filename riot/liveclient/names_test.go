package liveclient

import (
	"strings"
	"testing"
)

func TestTeam(t *testing.T) {
	for in, want := range map[string]string{
		"ORDER": "blue", "CHAOS": "red", "order": "blue", "NEUTRAL": "", "UNKNOWN": "", "": "", "100": "",
	} {
		if got := Team(in); got != want {
			t.Errorf("Team(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseStructure(t *testing.T) {
	for _, c := range []struct {
		name      string
		mapNumber int
		want      Structure
		ok        bool
	}{
		{"Turret_T2_L_03_A", 11, Structure{"TOWER_BUILDING", "red", "TOP_LANE", "OUTER_TURRET"}, true},
		{"Turret_T2_L_02_A", 11, Structure{"TOWER_BUILDING", "red", "TOP_LANE", "INNER_TURRET"}, true},
		{"Turret_T1_L_01_A", 11, Structure{"TOWER_BUILDING", "blue", "TOP_LANE", "BASE_TURRET"}, true},
		{"Turret_T1_C_05_A", 11, Structure{"TOWER_BUILDING", "blue", "MID_LANE", "OUTER_TURRET"}, true},
		{"Turret_T2_C_04_A", 11, Structure{"TOWER_BUILDING", "red", "MID_LANE", "INNER_TURRET"}, true},
		{"Turret_T2_C_03_A", 11, Structure{"TOWER_BUILDING", "red", "MID_LANE", "BASE_TURRET"}, true},
		{"Turret_T2_C_02_A", 11, Structure{"TOWER_BUILDING", "red", "MID_LANE", "NEXUS_TURRET"}, true},
		{"Turret_T2_C_01_A", 11, Structure{"TOWER_BUILDING", "red", "MID_LANE", "NEXUS_TURRET"}, true},
		{"Turret_T1_R_03_A", 11, Structure{"TOWER_BUILDING", "blue", "BOT_LANE", "OUTER_TURRET"}, true},
		{"Turret_T2_R_01_A", 11, Structure{"TOWER_BUILDING", "red", "BOT_LANE", "BASE_TURRET"}, true},
		{"Barracks_T2_C1", 11, Structure{"INHIBITOR_BUILDING", "red", "MID_LANE", ""}, true},
		{"Barracks_T1_L1", 11, Structure{"INHIBITOR_BUILDING", "blue", "TOP_LANE", ""}, true},
		{"Barracks_T2_R1", 11, Structure{"INHIBITOR_BUILDING", "red", "BOT_LANE", ""}, true},
		// Numbers Summoner's Rift does not use, and other maps: owner only.
		{"Turret_T1_C_07_A", 11, Structure{"TOWER_BUILDING", "blue", "", ""}, true},
		{"Turret_T2_L_04_A", 11, Structure{"TOWER_BUILDING", "red", "", ""}, true},
		{"Barracks_T1_C2", 11, Structure{"INHIBITOR_BUILDING", "blue", "", ""}, true},
		{"Turret_T1_C_05_A", 12, Structure{"TOWER_BUILDING", "blue", "", ""}, true},
		{"Barracks_T2_C1", 12, Structure{"INHIBITOR_BUILDING", "red", "", ""}, true},
		// Not structures.
		{"Turret_T3_L_03_A", 11, Structure{}, false},
		{"Turret_T1_L", 11, Structure{}, false},
		{"Turret_T1_L_x_A", 11, Structure{}, false},
		{"Turret_OrderTurretShrine_A", 11, Structure{}, false},
		{"Barracks_T2", 11, Structure{}, false},
		{"Barracks_T2_C", 11, Structure{}, false},
		{"Minion_T100L1S27N0164", 11, Structure{}, false},
		{"SRU_Baron12.1.1", 11, Structure{}, false},
		{"RedeclawLol", 11, Structure{}, false},
		{"", 11, Structure{}, false},
	} {
		got, ok := ParseStructure(c.name, c.mapNumber)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseStructure(%q, %d) = %+v, %v; want %+v, %v", c.name, c.mapNumber, got, ok, c.want, c.ok)
		}
	}
}

func TestStructureTeam(t *testing.T) {
	for in, want := range map[string]string{
		"Turret_T1_C_05_A": "blue", "Turret_T2_L_03_A": "red", "Barracks_T1_R1": "blue", "Barracks_T2_C1": "red",
		"Turret_T1_C_07_A": "blue", "Minion_T100L1S27N0164": "", "SRU_Baron12.1.1": "", "": "",
	} {
		if got := StructureTeam(in); got != want {
			t.Errorf("StructureTeam(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCapturedStructures checks the turret table against the captures:
// every structure named in them parses with a lane (and a tier for
// turrets), and within a team's lane structures fall from the outside in.
func TestCapturedStructures(t *testing.T) {
	rank := map[string]int{"OUTER_TURRET": 1, "INNER_TURRET": 2, "BASE_TURRET": 3, "": 4, "NEXUS_TURRET": 5} // "": the inhibitor
	for _, path := range captures {
		g := decodeFixture(t, path)
		fallen := map[string]int{} // team and lane → rank of the last structure lost there
		for _, e := range g.Events.Events {
			for _, name := range []string{e.TurretKilled, e.InhibKilled, e.InhibRespawningSoon, e.InhibRespawned} {
				if name == "" {
					continue
				}
				s, ok := ParseStructure(name, g.GameData.MapNumber)
				if !ok || s.Lane == "" || s.Building == "TOWER_BUILDING" && s.Tower == "" {
					t.Errorf("%s: event %d names %q, parsed as %+v, %v", path, e.EventID, name, s, ok)
					continue
				}
				if e.EventName != EventTurretKilled && e.EventName != EventInhibKilled {
					continue
				}
				// Nexus turrets share MID_LANE but sit behind every inhibitor.
				key := s.Team + " " + s.Lane
				if s.Tower == "NEXUS_TURRET" {
					key = s.Team + " nexus"
				}
				if r := rank[s.Tower]; r < fallen[key] {
					t.Errorf("%s: %s falls at %.0f s after a structure further in", path, name, e.EventTime)
				} else {
					fallen[key] = r
				}
			}
		}
	}
}

// TestCapturedNamesResolve: everyone an event of the captures names is a
// player, structure or minion with a side, except the monsters.
func TestCapturedNamesResolve(t *testing.T) {
	for _, path := range captures {
		g := decodeFixture(t, path)
		for _, e := range g.Events.Events {
			names := append([]string{e.KillerName, e.VictimName, e.Recipient, e.Acer, e.TurretKilled, e.InhibKilled}, e.Assisters...)
			for _, name := range names {
				if name == "" || strings.HasPrefix(name, "SRU_") {
					continue
				}
				if g.TeamOf(name) == "" {
					t.Errorf("%s: event %d (%s) names %q, which has no side", path, e.EventID, e.EventName, name)
				}
			}
			if e.EventName == EventAce && Team(e.AcingTeam) != g.TeamOf(e.Acer) {
				t.Errorf("%s: event %d: %s aced for %s", path, e.EventID, e.Acer, e.AcingTeam)
			}
		}
	}
}

func TestTeamOf(t *testing.T) {
	g := decodeFixture(t, practiceCapture)
	for in, want := range map[string]string{
		"LugnutsK": "blue", "Karthus Bot": "red", "Karthus": "red",
		"Turret_T2_C_05_A": "red", "Barracks_T2_C1": "red",
		"Minion_T100L1S27N0164": "blue", "Minion_T200L1S50N0316": "red",
		"SRU_Baron12.1.1": "", "nobody": "", "": "",
	} {
		if got := g.TeamOf(in); got != want {
			t.Errorf("TeamOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlayerByName(t *testing.T) {
	ranked := decodeFixture(t, rankedCapture)
	practice := decodeFixture(t, practiceCapture)
	modern, err := DecodeAllGameData([]byte(`{"activePlayer": {"error": "x"}, "events": {}, "gameData": {"gameTime": 1}, "allPlayers": [
		{"championName": "Ahri", "riotId": "Faker#KR1", "riotIdGameName": "Faker", "riotIdTagLine": "KR1", "team": "CHAOS"},
		{"championName": "Lee Sin", "riotId": "Bob#EUW", "riotIdGameName": "Bob", "riotIdTagLine": "EUW", "team": "ORDER"},
		{"championName": "Jinx", "riotId": "Bob#NA1", "riotIdGameName": "Bob", "riotIdTagLine": "NA1", "team": "ORDER"},
		{"championName": "Annie", "summonerName": "Caps#EUW", "team": "ORDER"},
		{"championName": "Lux", "summonerName": "Bob#NA1", "team": "CHAOS"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		g          *AllGameData
		name       string
		want       string // the champion found, "" for none
		wantReason string
	}{
		{ranked, "RedeclawLol", "Jax", "summoner name"},
		{ranked, "redeclawLOL", "Jax", "case is ignored"},
		{ranked, "pee woo woo", "Talon", "spaces"},
		{ranked, "RedeclawLol#EUW", "Jax", "a Riot ID against a client sending summoner names"},
		{ranked, "Jax", "", "a human's champion name"},
		{ranked, "Turret_T2_L_03_A", "", "a turret"},
		{ranked, "", "", "nothing"},
		{practice, "Karthus Bot", "Karthus", "a bot's summoner name"},
		{practice, "karthus", "Karthus", "a bot's champion name"},
		{modern, "Faker#KR1", "Ahri", "Riot ID"},
		{modern, "faker#kr1", "Ahri", "Riot ID, case ignored"},
		{modern, "Faker", "Ahri", "game name"},
		{modern, "Caps", "Annie", "game name against a summoner name holding a Riot ID"},
		{modern, "Bob#EUW", "Lee Sin", "Riot ID whose game name two players share"},
		{modern, "Bob#NA1", "Jinx", "a Riot ID wins over the same summoner name"},
		{modern, "Bob", "", "a game name two players share"},
		{modern, "#KR1", "", "a bare tag"},
	} {
		p, ok := c.g.PlayerByName(c.name)
		got := ""
		if ok {
			got = p.ChampionName
		}
		if got != c.want || ok != (c.want != "") {
			t.Errorf("PlayerByName(%q) (%s) = %q, %v; want %q", c.name, c.wantReason, got, ok, c.want)
		}
	}
}

func TestPlayerID(t *testing.T) {
	for _, c := range []struct {
		p    Player
		want string
	}{
		{Player{SummonerName: "LugnutsK"}, "LugnutsK"},
		{Player{RiotID: "Faker#KR1", RiotIDGameName: "Faker", SummonerName: "Faker"}, "Faker#KR1"},
		{Player{RiotID: "Faker#KR1"}, "Faker#KR1"},
		{Player{ChampionName: "Karthus"}, ""},
	} {
		if got := c.p.ID(); got != c.want {
			t.Errorf("%+v.ID() = %q, want %q", c.p, got, c.want)
		}
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"DragonKill":          "dragon_kill",
		"TurretKilled":        "turret_killed",
		"FirstBrick":          "first_brick",
		"FirstBlood":          "first_blood",
		"GameStart":           "game_start",
		"GameEnd":             "game_end",
		"MinionsSpawning":     "minions_spawning",
		"InhibKilled":         "inhib_killed",
		"InhibRespawningSoon": "inhib_respawning_soon",
		"InhibRespawned":      "inhib_respawned",
		"ChampionKill":        "champion_kill",
		"Multikill":           "multikill",
		"Ace":                 "ace",
		"HeraldKill":          "herald_kill",
		"BaronKill":           "baron_kill",
		"HordeKill":           "horde_kill",
		"AtakhanKill":         "atakhan_kill",
		"URFKill":             "urf_kill",
		"Kill2Streak":         "kill2_streak",
		"already_snake":       "already_snake",
		"Odd Name!":           "odd_name",
		"  Padded-Name  ":     "padded_name",
		"Élan":                "lan",
		"":                    "",
	} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}
