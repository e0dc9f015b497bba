package ingame

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/riot/liveclient"
	"github.com/riftbridge/riftbridge/riot/liveclient/lctest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	rankedCapture    = "../liveclient/testdata/allgamedata_ranked_00.json"
	spectatedCapture = "../liveclient/testdata/allgamedata_spectate_ranked_00.json"
)

// t0 is where every fake clock starts.
var t0 = time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)

// newGame serves the ranked capture's game on a fake clock, with a
// post-game longer than the tests' one-minute steps, so that a poll sees
// GameEnd before the API goes away.
func newGame(t *testing.T, g lctest.Game, opts ...lctest.Option) (*lctest.Server, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(t0)
	if g.Capture == nil {
		g.Capture = bridgetest.ReadFile(t, rankedCapture)
	}
	if g.PostGameFor == 0 {
		g.PostGameFor = 90 * time.Second
	}
	return lctest.New(t, g, append([]lctest.Option{lctest.WithClock(clock)}, opts...)...), clock
}

func newClient(t *testing.T, srv *lctest.Server) *Client {
	t.Helper()
	c := NewClient(srv.URL(), srv.CertPool(), 5*time.Second)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// deadAddress is an https address nothing listens on.
func deadAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "https://" + addr
}

func TestClientReadsTheGame(t *testing.T) {
	srv, clock := newGame(t, lctest.Game{})
	clock.Advance(130 * time.Second)
	c := newClient(t, srv)
	g, raw, err := c.AllGameData(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.AllPlayers) != 10 || g.GameData.GameTime != 130 || len(raw) == 0 {
		t.Errorf("allgamedata: %d players at %v s, %d bytes", len(g.AllPlayers), g.GameData.GameTime, len(raw))
	}
	evs, _, err := c.Events(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].EventID != 2 {
		t.Errorf("eventdata?eventID=2: %+v, want events 2 and 3", evs)
	}
	if st := srv.Stats(); len(st.EventIDs) != 1 || st.EventIDs[0] != 2 {
		t.Errorf("eventIDs asked %v, want [2]", st.EventIDs)
	}
}

// TestClientCertificates: only a chain to the pinned root is trusted; a
// leaf another CA signed (an impostor on port 2999) is refused, and so is
// the test server under Riot's root, which did not sign it.
func TestClientCertificates(t *testing.T) {
	impostor, _ := newGame(t, lctest.Game{}, lctest.WithUntrustedLeaf())
	genuine, _ := newGame(t, lctest.Game{})
	for _, tc := range []struct {
		name  string
		srv   *lctest.Server
		roots *x509.CertPool
	}{
		{"another CA's leaf", impostor, impostor.CertPool()},
		{"riot's root for a test leaf", genuine, RiotRoots()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClient(tc.srv.URL(), tc.roots, 5*time.Second)
			defer c.CloseIdleConnections()
			_, _, err := c.AllGameData(context.Background(), 0)
			if err == nil || errors.Is(err, ErrNoGame) || !strings.Contains(err.Error(), "unknown authority") {
				t.Errorf("err = %v, want the certificate refused, not a missing game", err)
			}
		})
	}
}

func TestClientNoGame(t *testing.T) {
	// Nothing listening: the client is not running.
	c := NewClient(deadAddress(t), RiotRoots(), time.Second)
	if _, _, err := c.AllGameData(context.Background(), 0); !errors.Is(err, ErrNoGame) {
		t.Errorf("nothing listening: %v, want ErrNoGame", err)
	}

	// Loading: 404 until the game has loaded.
	loading, _ := newGame(t, lctest.Game{LoadingFor: time.Minute})
	if _, _, err := newClient(t, loading).AllGameData(context.Background(), 0); !errors.Is(err, ErrNoGame) {
		t.Errorf("loading: %v, want ErrNoGame", err)
	}

	// Gone: the client left for the post-game screen.
	gone, _ := newGame(t, lctest.Game{})
	c = newClient(t, gone)
	if _, _, err := c.AllGameData(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	gone.Vanish()
	for range 2 { // the cut connection, then the refused one
		if _, _, err := c.Events(context.Background(), 0); !errors.Is(err, ErrNoGame) {
			t.Errorf("vanished: %v, want ErrNoGame", err)
		}
	}
}

func TestClientBadAnswers(t *testing.T) {
	for _, tc := range []struct {
		kind lctest.FaultKind
		want error
	}{
		{lctest.Malformed, liveclient.ErrMalformed},
		{lctest.Truncated, liveclient.ErrMalformed},
		{lctest.HTMLPage, liveclient.ErrMalformed},
	} {
		srv, _ := newGame(t, lctest.Game{})
		srv.Inject(lctest.Fault{Endpoint: "allgamedata", Kind: tc.kind, Count: 1})
		c := newClient(t, srv)
		_, _, err := c.AllGameData(context.Background(), 0)
		if !errors.Is(err, tc.want) || errors.Is(err, ErrNoGame) || strings.Contains(err.Error(), "\n") {
			t.Errorf("fault %v: %v, want one line wrapping %v", tc.kind, err, tc.want)
		}
		if _, _, err := c.AllGameData(context.Background(), 0); err != nil {
			t.Errorf("fault %v: the next answer: %v", tc.kind, err)
		}
	}
	srv, _ := newGame(t, lctest.Game{})
	srv.Inject(lctest.Fault{Endpoint: "eventdata", Kind: lctest.ServerError, Count: 1})
	if _, _, err := newClient(t, srv).Events(context.Background(), 0); err == nil || !strings.Contains(err.Error(), "eventdata: http 500") {
		t.Errorf("500: %v", err)
	}
}

// TestClientBounds: a body over the cap is refused without reading it all,
// and a redirect is not followed.
func TestClientBounds(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/liveclientdata/eventdata" {
			http.Redirect(w, r, "https://example.com/steal", http.StatusFound)
			return
		}
		w.Write([]byte(`{"Events":[`))
		chunk := []byte(`{"EventID":0,"EventName":"GameStart","EventTime":0.5},`)
		for written := 0; written <= liveclient.MaxBody; written += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer ts.Close()
	roots := x509.NewCertPool()
	roots.AddCert(ts.Certificate())
	c := NewClient(ts.URL, roots, 5*time.Second)
	defer c.CloseIdleConnections()
	if _, _, err := c.AllGameData(context.Background(), 0); !errors.Is(err, liveclient.ErrTooLarge) {
		t.Errorf("oversized body: %v, want ErrTooLarge", err)
	}
	if _, _, err := c.Events(context.Background(), 0); err == nil || !strings.Contains(err.Error(), "http 302") {
		t.Errorf("redirect: %v, want it refused as http 302", err)
	}
}

func TestRiotRoots(t *testing.T) {
	if subjects := RiotRoots().Subjects(); len(subjects) != 1 {
		t.Fatalf("%d roots bundled, want Riot's one", len(subjects))
	}
}

// timeoutErr is a net.Error that timed out.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// TestGone classifies by the failed operation, as on Windows, where the
// errnos differ from Linux's.
func TestGone(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connectex: No connection could be made")}, true},
		{&net.OpError{Op: "read", Net: "tcp", Err: errors.New("wsarecv: An existing connection was forcibly closed")}, true},
		{fmt.Errorf("get: %w", io.ErrUnexpectedEOF), true},
		{&net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, false},
		{&net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}, false},
		{errors.New("tls: failed to verify certificate"), false},
	} {
		if got := gone(tc.err); got != tc.want {
			t.Errorf("gone(%v) = %t, want %t", tc.err, got, tc.want)
		}
	}
}
