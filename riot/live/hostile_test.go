package live

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/state"
)

// TestMatchesRefusesAnotherGame: Riot answering for one match id with a
// match or a timeline of another game gets that match abandoned, with one
// warning naming both ids, and nothing emitted under either.
func TestMatchesRefusesAnotherGame(t *testing.T) {
	match := bridgetest.ReadFile(t, sampleMatch) // KR_7014499581
	timeline := bridgetest.ReadFile(t, sampleTimeline)
	asMatch := func(b []byte, id string) []byte {
		return bytes.ReplaceAll(b, []byte(`"KR_7014499581"`), []byte(`"`+id+`"`))
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/asia/lol/match/v5/matches/KR_1": // another game's match
			w.Write(match)
		case "/asia/lol/match/v5/matches/KR_2": // the right match, another game's timeline
			w.Write(asMatch(match, "KR_2"))
		case "/asia/lol/match/v5/matches/KR_2/timeline":
			w.Write(timeline)
		default:
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	var logs bytes.Buffer
	store := tempBolt(t, clockwork.NewRealClock())
	m := NewMatches(plainClient(t, ts), telemetry.Settings{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, WithLedger(store, "a", 0))
	m.Queue("KR_1", "KR_2")
	var out updates
	for range 2 {
		if err := m.Fetch(context.Background(), out.emitter()); err != nil {
			t.Fatal(err)
		}
	}
	if len(out.got) != 0 || m.Pending() != 0 {
		t.Errorf("%d updates, %d pending; want none", len(out.got), m.Pending())
	}
	for _, id := range []string{"KR_1", "KR_2"} {
		checkStatus(t, store, id, state.Finished, state.Abandoned, 0)
		var warned []string
		for line := range strings.SplitSeq(logs.String(), "\n") {
			if strings.Contains(line, "match_id="+id) {
				warned = append(warned, line)
			}
		}
		if len(warned) != 1 || !strings.Contains(warned[0], "level=WARN") || !strings.Contains(warned[0], "KR_7014499581") {
			t.Errorf("%s: want one warning naming it and KR_7014499581, got %q", id, warned)
		}
	}
}
