package riottest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSpectatorLiveWindow(t *testing.T) {
	s, clock := newTestServer(t)
	puuid := s.AddPlayer("Hide on bush", "KR1", "kr")
	start := t0.Add(time.Minute)
	s.AddGame(GameSpec{Platform: "kr", Players: []string{puuid}, Start: start, Duration: 30 * time.Minute})

	const idle = `{"status":{"message":"Data not found","status_code":404}}`
	steps := []struct {
		name       string
		at         time.Time
		wantStatus int
		wantLength int64
	}{
		{"before the start", t0, 404, 0},
		{"at the start", start, 200, 0},
		{"ten minutes in", start.Add(10*time.Minute + 999*time.Millisecond), 200, 600},
		{"last millisecond", start.Add(30*time.Minute - time.Millisecond), 200, 1799},
		{"at the end", start.Add(30 * time.Minute), 404, 0},
		{"an hour later", start.Add(90 * time.Minute), 404, 0},
	}
	for _, st := range steps {
		clock.Advance(st.at.Sub(clock.Now()))
		r := get(t, s, s.Key(), spectatorPath("kr", puuid))
		if r.status != st.wantStatus {
			t.Fatalf("%s: status %d, want %d", st.name, r.status, st.wantStatus)
		}
		if r.status == 404 {
			if string(r.body) != idle {
				t.Errorf("%s: body %s, want %s", st.name, r.body, idle)
			}
			continue
		}
		var g activeGame
		decode(t, r, &g)
		if g.GameLength != st.wantLength || g.GameStartTime != start.UnixMilli() {
			t.Errorf("%s: gameLength %d, gameStartTime %d; want %d, %d", st.name, g.GameLength, g.GameStartTime, st.wantLength, start.UnixMilli())
		}
	}
}

// TestSpectatorGolden pins the whole spectator-v5 answer; -update rewrites it.
func TestSpectatorGolden(t *testing.T) {
	s, clock := newTestServer(t)
	faker := s.AddPlayer("Hide on bush", "KR1", "kr")
	chovy := s.AddPlayer("젠지 한별", "GEN", "kr")
	s.AddGame(GameSpec{Platform: "kr", Players: []string{faker, chovy}, Start: t0, QueueID: 440})
	clock.Advance(754 * time.Second)

	r := get(t, s, s.Key(), spectatorPath("kr", chovy))
	if r.status != 200 {
		t.Fatalf("status %d (%s)", r.status, r.body)
	}
	var got bytes.Buffer
	if err := json.Indent(&got, r.body, "", "  "); err != nil {
		t.Fatalf("indent %s: %v", r.body, err)
	}
	got.WriteByte('\n')
	golden := filepath.Join("testdata", "spectator_live", "response.json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read %s (run with -update to create it): %v", golden, err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("spectator answer differs from %s:\n%s", golden, got.Bytes())
	}
}

func TestSpectatorUnknownPUUID(t *testing.T) {
	s, _ := newTestServer(t)
	r := get(t, s, s.Key(), spectatorPath("kr", "not-a-puuid"))
	if r.status != 400 {
		t.Errorf("status %d, want 400 (%s)", r.status, r.body)
	}
}
