package mapper_test

import (
	"slices"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
)

func TestLive(t *testing.T) {
	at := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	player := riot.Player{RiotID: "Hide on bush#KR1", Platform: "kr", PUUID: "p1"}
	game := &riot.ActiveGame{
		GameID: 7100000001, PlatformID: "KR", GameMode: "CLASSIC", GameQueueConfigID: 420, GameLength: 754,
		Participants: []riot.ActiveParticipant{{PUUID: "other", TeamID: 100, ChampionID: 1}, {PUUID: "p1", TeamID: 200, ChampionID: 7}},
	}
	tests := []struct {
		name       string
		live       riot.Live
		inGame     float64
		gameLength bool
		moment     string
	}{
		{"idle", riot.Live{Player: player}, 0, false, ""},
		{"started", riot.Live{Player: player, Game: game, Started: true}, 1, true, mapper.MomentLiveGameStart},
		{"running", riot.Live{Player: player, Game: game}, 1, true, ""},
		{"ended", riot.Live{Player: player, Game: game, Ended: true}, 0, false, mapper.MomentLiveGameEnd},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mapper.Live(tt.live, mapper.Options{}, at)
			var inGame *mapper.Point
			var length *mapper.Point
			for i, p := range b.Points {
				if !p.Time.IsZero() {
					t.Errorf("%s stamped %v; live points are stamped by the Agent", p.Name, p.Time)
				}
				switch p.Name {
				case mapper.MetricLiveInGame:
					inGame = &b.Points[i]
				case mapper.MetricLiveGameLength:
					length = &b.Points[i]
				}
			}
			if inGame == nil || inGame.Value != tt.inGame || !slices.Equal(inGame.Tags, []string{"platform:kr", "player:hide_on_bush_kr1"}) {
				t.Errorf("in_game = %+v, want %v tagged platform and player", inGame, tt.inGame)
			}
			if (length != nil) != tt.gameLength {
				t.Fatalf("game_length present = %v, want %v", length != nil, tt.gameLength)
			}
			if length != nil && (length.Value != 754 || !containsAll(length.Tags, []string{"team:red", "champion_id:7", "queue:420", "game_mode:classic"})) {
				t.Errorf("game_length = %+v", length)
			}
			if tt.moment == "" {
				if len(b.Events) != 0 {
					t.Errorf("unexpected events %+v", b.Events)
				}
				return
			}
			if len(b.Events) != 1 || !containsAll(b.Events[0].Tags, []string{"moment:" + tt.moment, "match_id:kr_7100000001"}) || !b.Events[0].Time.Equal(at) {
				t.Errorf("events = %+v, want one %s", b.Events, tt.moment)
			}
		})
	}
}
