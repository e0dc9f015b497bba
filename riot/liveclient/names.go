package liveclient

import (
	"strconv"
	"strings"
)

// Team converts the client's team field to riftbridge's side: "ORDER" is
// "blue", "CHAOS" is "red", and anything else ("NEUTRAL", "UNKNOWN", "") is "".
func Team(s string) string {
	switch strings.ToUpper(s) {
	case "ORDER":
		return "blue"
	case "CHAOS":
		return "red"
	}
	return ""
}

// Structure is a turret or inhibitor as its object name describes it, in
// match-v5's words so that live and match-v5 data tag structures alike.
type Structure struct {
	// Building is "TOWER_BUILDING" or "INHIBITOR_BUILDING".
	Building string
	// Team is the side the structure belongs to, "blue" or "red": the side
	// that loses it when it falls.
	Team string
	// Lane is "TOP_LANE", "MID_LANE" or "BOT_LANE"; "" when unknown.
	Lane string
	// Tower is "OUTER_TURRET", "INNER_TURRET", "BASE_TURRET" or
	// "NEXUS_TURRET"; "" for inhibitors and when unknown.
	Tower string
}

// summonersRift is gamestats' mapNumber for Summoner's Rift.
const summonersRift = 11

var (
	laneTypes = map[string]string{"L": "TOP_LANE", "C": "MID_LANE", "R": "BOT_LANE"}
	// towerTypes maps lane letter and turret number on Summoner's Rift.
	towerTypes = map[string]string{
		"L03": "OUTER_TURRET", "L02": "INNER_TURRET", "L01": "BASE_TURRET",
		"R03": "OUTER_TURRET", "R02": "INNER_TURRET", "R01": "BASE_TURRET",
		"C05": "OUTER_TURRET", "C04": "INNER_TURRET", "C03": "BASE_TURRET",
		"C02": "NEXUS_TURRET", "C01": "NEXUS_TURRET",
	}
)

// ParseStructure parses a TurretKilled, InhibKilled, InhibRespawningSoon or
// InhibRespawned name on the map of gamestats' mapNumber, and reports false
// for names that are not a structure's.
//
// Names look like Turret_T2_L_03_A and Barracks_T2_C1: T1 is ORDER's
// (blue), T2 CHAOS's (red); L, C and R are top, mid and bot; then a number
// that grows from the base outwards. Building and Team are read on every
// map. Lane and Tower are only given on Summoner's Rift (mapNumber 11),
// whose numbers were read off the order structures fall in the captures:
//
//   - top and bot: 03 outer, 02 inner, 01 base, the turret guarding the
//     inhibitor (Turret_T2_R_01_A falls just before Barracks_T2_R1);
//   - mid: 05 outer, 04 inner, 03 base; 02 and 01 are the nexus turrets,
//     which fall after Barracks_T2_C1 and which match-v5 files under
//     MID_LANE too;
//   - inhibitors: Barracks_T1_L1 … Barracks_T2_R1.
//
// The lanes agree with who took them: top laners take the L turrets, the
// bot laner the R ones, the mid laner the C ones, and a lane's minions
// (Minion_T100L1… is blue's mid wave) that lane's. Other numbers leave Lane
// and Tower empty rather than guess.
func ParseStructure(name string, mapNumber int) (Structure, bool) {
	parts := strings.Split(name, "_")
	if len(parts) < 3 {
		return Structure{}, false
	}
	var s Structure
	switch parts[1] {
	case "T1":
		s.Team = "blue"
	case "T2":
		s.Team = "red"
	default:
		return Structure{}, false
	}
	var lane, number string
	switch {
	case parts[0] == "Turret" && len(parts) >= 4 && isDigits(parts[3]):
		s.Building = "TOWER_BUILDING"
		lane, number = parts[2], parts[3]
	case parts[0] == "Barracks" && len(parts) == 3 && len(parts[2]) >= 2 && isDigits(parts[2][1:]):
		s.Building = "INHIBITOR_BUILDING"
		lane, number = parts[2][:1], parts[2][1:]
	default:
		return Structure{}, false
	}
	if mapNumber != summonersRift {
		return s, true
	}
	if s.Building == "INHIBITOR_BUILDING" {
		if number == "1" {
			s.Lane = laneTypes[lane]
		}
		return s, true
	}
	if tower, ok := towerTypes[lane+number]; ok {
		s.Lane, s.Tower = laneTypes[lane], tower
	}
	return s, true
}

// StructureTeam returns whose turret or inhibitor name is, "blue" for
// Turret_T1_…/Barracks_T1_… and "red" for T2: the team that lost it when an
// event reports it destroyed. It returns "" for other names.
func StructureTeam(name string) string {
	s, _ := ParseStructure(name, 0)
	return s.Team
}

// minionTeam returns the side of a minion named like Minion_T100L1S27N0164
// (team 100 is blue, 200 red; then lane, wave and unit number), or "".
func minionTeam(name string) string {
	switch {
	case strings.HasPrefix(name, "Minion_T100"):
		return "blue"
	case strings.HasPrefix(name, "Minion_T200"):
		return "red"
	}
	return ""
}

func isDigits(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

// PlayerByName finds the player an event names. Depending on its version,
// the client names players by Riot ID ("Name#TAG"), its game name or the
// summoner name, and bots by summoner name ("Karthus Bot") or champion name;
// case is ignored. Riot IDs are tried first, then game names, then summoner
// names, then game names against the part before '#' of either side, then
// bots' champion names. A name two players share at the first level it
// matches at reports false: misattributing an event is worse than not
// attributing it.
func (g *AllGameData) PlayerByName(name string) (*Player, bool) {
	if name == "" {
		return nil, false
	}
	levels := []func(p *Player) bool{
		func(p *Player) bool { return strings.EqualFold(p.RiotID, name) },
		func(p *Player) bool { return strings.EqualFold(p.RiotIDGameName, name) },
		func(p *Player) bool { return strings.EqualFold(p.SummonerName, name) },
		func(p *Player) bool {
			want := gameName(name)
			for _, s := range []string{p.RiotID, p.RiotIDGameName, p.SummonerName} {
				if s != "" && strings.EqualFold(gameName(s), want) {
					return true
				}
			}
			return false
		},
		func(p *Player) bool { return p.IsBot && strings.EqualFold(p.ChampionName, name) },
	}
	for _, match := range levels {
		var found *Player
		for i := range g.AllPlayers {
			p := &g.AllPlayers[i]
			if !match(p) {
				continue
			}
			if found != nil {
				return nil, false
			}
			found = p
		}
		if found != nil {
			return found, true
		}
	}
	return nil, false
}

// gameName is the part of a Riot ID before its '#', or s itself.
func gameName(s string) string {
	if name, _, ok := strings.Cut(s, "#"); ok && name != "" {
		return name
	}
	return s
}

// TeamOf returns the side, "blue" or "red", of whatever an event names: a
// player (see PlayerByName), a turret or inhibitor (its owner), or a minion;
// "" for monsters ("SRU_Baron12.1.1") and names it cannot resolve.
func (g *AllGameData) TeamOf(name string) string {
	if p, ok := g.PlayerByName(name); ok {
		return Team(p.Team)
	}
	if team := StructureTeam(name); team != "" {
		return team
	}
	return minionTeam(name)
}

// SnakeCase converts an event name to a metric- and tag-friendly form:
// "DragonKill" → "dragon_kill", "InhibRespawningSoon" →
// "inhib_respawning_soon", "Multikill" → "multikill". Runs of capitals stay
// one word ("URFKill" → "urf_kill"); anything but ASCII letters and digits
// becomes a single '_'.
func SnakeCase(eventName string) string {
	var b strings.Builder
	s := eventName
	sep := false // a '_' is owed before the next letter or digit
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isUpper(c):
			// A capital starts a word after a lowercase letter or a digit,
			// and ends a run of capitals when a lowercase letter follows.
			if i > 0 && (isLower(s[i-1]) || isDigit(s[i-1]) || isUpper(s[i-1]) && i+1 < len(s) && isLower(s[i+1])) {
				sep = true
			}
			c += 'a' - 'A'
		case isLower(c) || isDigit(c):
		default:
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('_')
		}
		sep = false
		b.WriteByte(c)
	}
	return b.String()
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
