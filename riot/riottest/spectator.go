package riottest

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// activeGame is spectator-v5's CurrentGameInfo.
type activeGame struct {
	GameID            int64               `json:"gameId"`
	GameType          string              `json:"gameType"`
	GameMode          string              `json:"gameMode"`
	MapID             int                 `json:"mapId"`
	GameQueueConfigID int                 `json:"gameQueueConfigId"`
	PlatformID        string              `json:"platformId"`
	GameStartTime     int64               `json:"gameStartTime"` // epoch ms
	GameLength        int64               `json:"gameLength"`    // s
	BannedChampions   []bannedChampion    `json:"bannedChampions"`
	Observers         observers           `json:"observers"`
	Participants      []activeParticipant `json:"participants"`
}

type bannedChampion struct {
	ChampionID int `json:"championId"`
	TeamID     int `json:"teamId"`
	PickTurn   int `json:"pickTurn"`
}

type observers struct {
	EncryptionKey string `json:"encryptionKey"`
}

type activeParticipant struct {
	PUUID                    string `json:"puuid"`
	RiotID                   string `json:"riotId"`
	TeamID                   int    `json:"teamId"`
	ChampionID               int    `json:"championId"`
	Spell1ID                 int    `json:"spell1Id"`
	Spell2ID                 int    `json:"spell2Id"`
	Bot                      bool   `json:"bot"`
	ProfileIconID            int    `json:"profileIconId"`
	Perks                    perks  `json:"perks"`
	GameCustomizationObjects []any  `json:"gameCustomizationObjects"`
}

type perks struct {
	PerkIDs      []int `json:"perkIds"`
	PerkStyle    int   `json:"perkStyle"`
	PerkSubStyle int   `json:"perkSubStyle"`
}

// spectator serves GET /lol/spectator/v5/active-games/by-summoner/{puuid}:
// the live game, else 404 "Data not found", Riot's normal idle answer.
func (s *Server) spectator(now time.Time, req request) reply {
	p, ok := s.players[req.args[0]]
	if !ok {
		return errorReply(http.StatusBadRequest, "Bad Request - Exception decrypting "+req.args[0])
	}
	g := p.liveGame(now)
	platform := p.platform
	if g != nil {
		platform = g.platform
	}
	if platform != req.route {
		s.stats.WrongRoute++
		g = nil
	}
	if g == nil {
		return errorReply(http.StatusNotFound, "Data not found")
	}
	sample, err := loadSampleGame()
	if err != nil {
		return errorReply(http.StatusInternalServerError, "Internal server error")
	}
	return jsonReply(g.activeGame(sample, now))
}

// activeGame is g as spectator-v5 shows it at now, with the sample's
// champions, spells, runes and bans.
func (g *game) activeGame(sample sampleGame, now time.Time) activeGame {
	key := sha256.Sum256([]byte("riottest-observer:" + g.matchID))
	ag := activeGame{
		GameID: g.gameID,
		// spectator-v5 says MATCHED where match-v5 says MATCHED_GAME.
		GameType:          strings.TrimSuffix(sample.Info.GameType, "_GAME"),
		GameMode:          sample.Info.GameMode,
		MapID:             sample.Info.MapID,
		GameQueueConfigID: g.queueID,
		PlatformID:        g.platformID(),
		GameStartTime:     g.start.UnixMilli(),
		GameLength:        int64(now.Sub(g.start) / time.Second),
		BannedChampions:   []bannedChampion{},
		Observers:         observers{EncryptionKey: hex.EncodeToString(key[:16])},
	}
	for _, team := range sample.Info.Teams {
		for _, b := range team.Bans {
			ag.BannedChampions = append(ag.BannedChampions, bannedChampion{ChampionID: b.ChampionID, TeamID: team.TeamID, PickTurn: b.PickTurn})
		}
	}
	for i, p := range g.players {
		sp := sample.Info.Participants[i]
		ap := activeParticipant{
			PUUID:                    p.puuid,
			RiotID:                   p.gameName + "#" + p.tagLine,
			TeamID:                   sp.TeamID,
			ChampionID:               sp.ChampionID,
			Spell1ID:                 sp.Summoner1ID,
			Spell2ID:                 sp.Summoner2ID,
			ProfileIconID:            sp.ProfileIcon,
			GameCustomizationObjects: []any{},
			Perks:                    perks{PerkIDs: []int{}},
		}
		// Since August 2025 perkIds holds only the keystone.
		if styles := sp.Perks.Styles; len(styles) == 2 && len(styles[0].Selections) > 0 {
			ap.Perks = perks{PerkIDs: []int{styles[0].Selections[0].Perk}, PerkStyle: styles[0].Style, PerkSubStyle: styles[1].Style}
		}
		ag.Participants = append(ag.Participants, ap)
	}
	return ag
}
