package liveclient

import (
	"strings"
	"testing"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
)

func TestGameKey(t *testing.T) {
	load := func(path string) *AllGameData {
		g, err := DecodeAllGameData(bridgetest.ReadFile(t, path))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	ranked := load(rankedCapture)
	key := GameKey(ranked)
	if !strings.HasPrefix(key, "lc-") || len(key) != 23 {
		t.Errorf("key %q, want lc- and 20 hex digits", key)
	}

	// The same game later: the clock, scores and events move, the key does not.
	later := load(rankedCapture)
	later.GameData.GameTime += 60
	later.AllPlayers[0].Scores.Kills += 3
	later.AllPlayers[0].Level++
	later.Events.Events = nil
	// The client lists players in any order.
	later.AllPlayers[0], later.AllPlayers[9] = later.AllPlayers[9], later.AllPlayers[0]
	if got := GameKey(later); got != key {
		t.Errorf("same game later: key %q, want %q", got, key)
	}

	// Another game: another champion, another mode, another capture.
	other := load(rankedCapture)
	other.AllPlayers[3].ChampionName, other.AllPlayers[3].RawChampionName = "Annie", "game_character_displayname_Annie"
	if GameKey(other) == key {
		t.Error("a different champion kept the key")
	}
	other = load(rankedCapture)
	other.GameData.GameMode = "ARAM"
	if GameKey(other) == key {
		t.Error("a different mode kept the key")
	}
	for _, path := range []string{spectatedCapture, practiceCapture} {
		if GameKey(load(path)) == key {
			t.Errorf("%s has the ranked capture's key", path)
		}
	}
}
