package source

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot/liveclient"
)

// gameRecording is a recording of three polls, 1 s and 3 s apart, with 1,
// 0 and 2 new events.
func gameRecording(t *testing.T) *liveclient.Recording {
	t.Helper()
	rec, err := liveclient.LoadRecording("../liveclient/testdata/allgamedata_practice_01.json")
	if err != nil {
		t.Fatal(err)
	}
	g := rec.Polls[0].Game
	at := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	ev := func(id int) liveclient.Event { return liveclient.Event{EventID: id, EventName: "ChampionKill"} }
	rec.Polls = []liveclient.RecordedPoll{
		{At: at, Game: g, Events: []liveclient.Event{ev(0)}},
		{At: at.Add(time.Second), Game: g},
		{At: at.Add(4 * time.Second), Game: g, Events: []liveclient.Event{ev(1), ev(2)}},
	}
	rec.File = "game.jsonl"
	return rec
}

func TestGameReplay(t *testing.T) {
	for _, tc := range []struct {
		speed float64
		waits []time.Duration
	}{
		{0, nil},
		{1, []time.Duration{time.Second, 3 * time.Second}},
		{2, []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond}},
	} {
		rec := gameRecording(t)
		clk := newTimerClock(t0)
		var out recorder
		err := play(t, clk, NewGameReplay(rec, telemetry.Settings{Clock: clk}, WithSpeed(tc.speed)), &out)
		if err != nil {
			t.Fatalf("speed %v: %v", tc.speed, err)
		}
		key := liveclient.GameKey(rec.Polls[0].Game)
		want := []string{"begin game " + key + " from 0", "poll at 2026-12-01T20:00:00Z: 1 events",
			"poll at 2026-12-01T20:00:01Z: 0 events", "poll at 2026-12-01T20:00:04Z: 2 events", "end"}
		if got := out.Events(); !slices.Equal(got, want) {
			t.Errorf("speed %v: emitted %q, want %q", tc.speed, got, want)
		}
		if got := clk.Waits(); !slices.Equal(got, tc.waits) {
			t.Errorf("speed %v: waits %v, want %v (the schedule is fixed at the start)", tc.speed, got, tc.waits)
		}
	}
}

// failingGame fails every poll.
type failingGame struct{ recorder }

func (f *failingGame) BeginGame(context.Context, string, int) (GameEmission, error) {
	return failingEmission{}, nil
}

type failingEmission struct{}

func (failingEmission) Poll(context.Context, GamePoll) error { return errors.New("agent away") }
func (failingEmission) End()                                 {}

func TestGameReplayErrors(t *testing.T) {
	rec := gameRecording(t)
	err := NewGameReplay(rec, telemetry.Settings{}).Run(context.Background(), &failingGame{})
	if err == nil || !strings.Contains(err.Error(), "replay game.jsonl: poll 1 of 3: agent away") {
		t.Errorf("failed poll: %v", err)
	}
	if err := NewGameReplay(&liveclient.Recording{}, telemetry.Settings{}).Run(context.Background(), &recorder{}); err == nil {
		t.Error("an empty recording replayed")
	}
	if err := NewGameReplay(rec, telemetry.Settings{}, WithSpeed(-1)).Run(context.Background(), &recorder{}); err == nil {
		t.Error("a negative speed replayed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewGameReplay(rec, telemetry.Settings{}).Run(ctx, &recorder{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
