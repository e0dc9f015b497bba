package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
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
		d, err := NewDoer("RGAPI-secret", telemetry.Settings{}, WithBaseURL(riot.URL+"/{route}"), WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
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
	d, err := NewDoer("RGAPI-secret", telemetry.Settings{}, WithBaseURL(srv.URL+"/{route}"), WithMaxRetries(1))
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
