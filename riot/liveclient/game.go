package liveclient

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// GameKey names the game g is a snapshot of, the same on every poll and
// after a restart: the Live Client Data API serves no game id, so the key
// is a digest of what stays put for a whole game, the mode, the map and
// every player with their champion and side. Two games share a key only if
// the same players replay the same champions on the same sides.
func GameKey(g *AllGameData) string {
	parts := []string{g.GameData.GameMode, strconv.Itoa(g.GameData.MapNumber)}
	players := make([]string, 0, len(g.AllPlayers))
	for i := range g.AllPlayers {
		p := &g.AllPlayers[i]
		players = append(players, strings.Join([]string{p.Team, p.ID(), p.RawChampionName, p.ChampionName}, "\x1f"))
	}
	slices.Sort(players)
	sum := sha256.Sum256([]byte(strings.Join(append(parts, players...), "\x1e")))
	return "lc-" + hex.EncodeToString(sum[:10])
}
