package riottest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// The real KR ranked match every scenario game is built from. Embedded so
// that tests in any package get the same documents whatever their directory.
var (
	//go:embed testdata/KR_7014499581.match.json
	sampleMatchJSON []byte
	//go:embed testdata/KR_7014499581.timeline.json
	sampleTimelineJSON []byte
)

const (
	sampleMatchFile    = "testdata/KR_7014499581.match.json"
	sampleTimelineFile = "testdata/KR_7014499581.timeline.json"
	// sampleQueueID and sampleDuration (gameEndTimestamp - gameStartTimestamp)
	// are the sample's, for games that do not set their own.
	sampleQueueID  = 420
	sampleDuration = 1739152 * time.Millisecond
)

// sampleGame is the part of the sample match that spectator-v5 answers and
// timestamp rewrites need.
type sampleGame struct {
	Info struct {
		GameCreation       int64               `json:"gameCreation"`
		GameStartTimestamp int64               `json:"gameStartTimestamp"`
		GameEndTimestamp   int64               `json:"gameEndTimestamp"`
		GameMode           string              `json:"gameMode"`
		GameType           string              `json:"gameType"`
		MapID              int                 `json:"mapId"`
		Participants       []sampleParticipant `json:"participants"`
		Teams              []struct {
			TeamID int `json:"teamId"`
			Bans   []struct {
				ChampionID int `json:"championId"`
				PickTurn   int `json:"pickTurn"`
			} `json:"bans"`
		} `json:"teams"`
	} `json:"info"`
}

type sampleParticipant struct {
	TeamID      int `json:"teamId"`
	ChampionID  int `json:"championId"`
	Summoner1ID int `json:"summoner1Id"`
	Summoner2ID int `json:"summoner2Id"`
	ProfileIcon int `json:"profileIcon"`
	Perks       struct {
		Styles []struct {
			Style      int `json:"style"`
			Selections []struct {
				Perk int `json:"perk"`
			} `json:"selections"`
		} `json:"styles"`
	} `json:"perks"`
}

var loadSampleGame = sync.OnceValues(func() (sampleGame, error) {
	var g sampleGame
	if err := json.Unmarshal(sampleMatchJSON, &g); err != nil {
		return g, fmt.Errorf("decode %s: %w", sampleMatchFile, err)
	}
	if n := len(g.Info.Participants); n != playersPerGame {
		return g, fmt.Errorf("decode %s: %d participants, want %d", sampleMatchFile, n, playersPerGame)
	}
	return g, nil
})

// rewriter turns a decoded copy of a sample document into g's document.
type rewriter func(g *game, sample sampleGame, doc map[string]any) error

// documentRenderer renders g's document from the sample once, on first use:
// a timeline takes tens of milliseconds to rewrite and most games in a test
// are never fetched.
func documentRenderer(g *game, file string, raw []byte, rewrite rewriter) func() ([]byte, error) {
	return sync.OnceValues(func() ([]byte, error) {
		sample, err := loadSampleGame()
		if err != nil {
			return nil, err
		}
		// Numbers stay json.Number so that everything not rewritten is
		// served exactly as Riot sent it.
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("decode %s: %w", file, err)
		}
		if err := rewrite(g, sample, doc); err != nil {
			return nil, fmt.Errorf("rewrite %s for %s: %w", file, g.matchID, err)
		}
		return json.Marshal(doc)
	})
}

// field returns m[key] as a T.
func field[T any](m map[string]any, key string) (T, error) {
	v, ok := m[key].(T)
	if !ok {
		return v, fmt.Errorf("field %q is %T, not %T", key, m[key], v)
	}
	return v, nil
}

// objects returns m[key] as a list of objects.
func objects(m map[string]any, key string) ([]map[string]any, error) {
	list, err := field[[]any](m, key)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(list))
	for i, v := range list {
		o, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("field %q[%d] is %T, not an object", key, i, v)
		}
		out[i] = o
	}
	return out, nil
}

// metadataAndInfo returns a match-v5 document's two halves after setting
// the metadata that match and timeline share.
func metadataAndInfo(g *game, doc map[string]any) (info map[string]any, err error) {
	meta, err := field[map[string]any](doc, "metadata")
	if err != nil {
		return nil, err
	}
	if info, err = field[map[string]any](doc, "info"); err != nil {
		return nil, err
	}
	puuids := make([]string, len(g.players))
	for i, p := range g.players {
		puuids[i] = p.puuid
	}
	meta["matchId"] = g.matchID
	meta["participants"] = puuids
	info["gameId"] = g.gameID
	return info, nil
}

// participants returns info.participants, which must hold one object per
// player in participantId order.
func participants(info map[string]any) ([]map[string]any, error) {
	parts, err := objects(info, "participants")
	if err != nil {
		return nil, err
	}
	if len(parts) != playersPerGame {
		return nil, fmt.Errorf("%d participants, want %d", len(parts), playersPerGame)
	}
	return parts, nil
}
