package riot

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/state"
)

// TestDoerRefusesRedirects: a Riot host answering with a redirect to
// another origin must not hand that origin the key, whatever the status and
// whoever built the http.Client; the answer is an error naming the endpoint.
func TestDoerRefusesRedirects(t *testing.T) {
	var leaked, hits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("X-Riot-Token") != "" {
			leaked.Add(1)
		}
		w.Write([]byte(`{"gameId":1}`))
	}))
	defer elsewhere.Close()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		riot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+r.URL.Path+"?steal=1", status)
		}))
		// A client of the caller's, following redirects as Go's does.
		d, err := NewDoer(DoerOptions{APIKey: "RGAPI-secret", BaseURL: riot.URL + "/{route}", HTTPClient: &http.Client{Timeout: 5 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewClient(d).ActiveGame(context.Background(), "kr", "puuid-1")
		riot.Close()
		if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "spectator-v5") || !strings.Contains(err.Error(), elsewhere.URL) {
			t.Errorf("http %d: err = %v, want ErrUntrusted naming the endpoint and where it pointed", status, err)
		}
		if strings.Contains(err.Error(), "RGAPI-secret") || strings.Contains(err.Error(), "steal") {
			t.Errorf("http %d: the error shows the key or the redirect's query: %v", status, err)
		}
	}
	if hits.Load() != 0 || leaked.Load() != 0 {
		t.Errorf("the other origin got %d requests, %d with the key; want none", hits.Load(), leaked.Load())
	}
}

// TestDoerCapsBodies: a reply far larger than any Riot document is cut off
// at MaxBody, costs at most that much memory, and fails with one error;
// the next request goes through.
func TestDoerCapsBodies(t *testing.T) {
	const huge = 512 << 20
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "small") {
			w.Write([]byte(`{"gameId":7,"platformId":"KR","gameLength":60,"participants":[]}`))
			return
		}
		if strings.Contains(r.URL.Path, "announced") {
			w.Header().Set("Content-Length", strconv.Itoa(huge))
		}
		chunk := make([]byte, 1<<20)
		for i := range chunk {
			chunk[i] = ' '
		}
		for range huge / len(chunk) {
			n, err := w.Write(chunk)
			served.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	d, err := NewDoer(DoerOptions{APIKey: "RGAPI-secret", BaseURL: srv.URL + "/{route}", MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	client := NewClient(d)
	_, err = client.ActiveGame(context.Background(), "kr", "huge")
	if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "body over 16 MiB") || !strings.Contains(err.Error(), "spectator-v5") {
		t.Fatalf("err = %v, want ErrUntrusted: body over 16 MiB, naming the endpoint", err)
	}
	// Reading stopped at the cap; TestRunHugeReply measures the memory.
	if served.Load() >= huge {
		t.Errorf("the server wrote all %d MiB: the reply was read to its end", huge>>20)
	}
	// A length announced over the cap is refused before a byte is read.
	if _, err := client.ActiveGame(context.Background(), "kr", "announced"); !errors.Is(err, ErrUntrusted) {
		t.Errorf("announced 512 MiB: err = %v, want ErrUntrusted", err)
	}
	if _, err := client.ActiveGame(context.Background(), "kr", "small"); err != nil {
		t.Errorf("the next request: %v", err)
	}
}

// TestMatchesRefusesAnotherGame: Riot answering for one match id with a
// match or a timeline of another game gets that match abandoned, with one
// warning naming both ids, and nothing emitted under either.
func TestMatchesRefusesAnotherGame(t *testing.T) {
	match := readFixture(t, sampleMatch) // KR_7014499581
	timeline := readFixture(t, sampleTimeline)
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
	d, err := NewDoer(DoerOptions{APIKey: "k", BaseURL: ts.URL + "/{route}"})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	store := tempBolt(t, clockwork.NewRealClock())
	m := &Matches{Client: NewClient(d), Ledger: store, Owner: "a", Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	m.Queue("KR_1", "KR_2")
	var out updates
	for range 2 {
		if err := m.Fetch(context.Background(), out.emit); err != nil {
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
