// Package lctest serves a recorded game the way League of Legends' game
// client serves its Live Client Data API, over HTTPS with a certificate
// chain shaped like the client's and on a clock the test controls, so that
// pollers can be tested end to end.
package lctest

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/riot/liveclient"
)

// Game is a recorded game to play back. Game time runs from StartAt when
// the game has loaded, at Speed game seconds per clock second, to EndAt.
type Game struct {
	// Capture is an allgamedata document: the game as it stood when it was
	// captured. Its events are served as they fall due. Kills, deaths and
	// assists follow the ChampionKill events (on top of what the captured
	// scores imply for before the first event); creep score, ward score
	// and the active player's gold grow linearly from 0 (gold 500) at 0:00
	// to the captured values at the capture's gameTime. Everything else is
	// served as captured, member for member.
	Capture []byte
	// Spectator serves the game as a spectator's client does: active-player
	// endpoints answer {"error": "Spectator mode doesn't currently support
	// this feature"}, and events start at the join, StartAt or the
	// capture's first event if later, with a GameStart there numbered 0.
	Spectator bool
	// StartAt is the game time at which the game has loaded, for a client
	// started (or a spectator who joined) mid-game. A player's client still
	// serves the events from before it.
	StartAt time.Duration
	// EndAt is the game time of GameEnd; 0 means the capture's gameTime,
	// or its last event if later. Captured events after it are never
	// served.
	EndAt time.Duration
	// Result is GameEnd's Result; default "Win".
	Result string
	// Speed is game seconds per clock second; 0 means 1.
	Speed float64
	// LoadingFor is how long after New the game is loading: every endpoint
	// answers 404 with errorCode RESOURCE_NOT_FOUND.
	LoadingFor time.Duration
	// PostGameFor is how long after GameEnd the API still answers, with the
	// game time stopped at EndAt, before the client leaves for the post-game
	// screen and the API vanishes; 0 means 10 s.
	PostGameFor time.Duration
	// RiotIDTag, when set, serves human players as clients since the Riot
	// ID change do: riotId "Name#RiotIDTag", riotIdGameName, riotIdTagLine,
	// no summonerName. Events keep naming players by game name.
	RiotIDTag string
}

const defaultPostGame = 10 * time.Second

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock the game is played on. Default: real time.
func WithClock(c clockwork.Clock) Option { return func(s *Server) { s.clock = c } }

// WithUntrustedLeaf makes the server present a leaf signed by another CA
// than the one CAPEM and CertPool give, as an impostor on port 2999 would:
// a pinned client must refuse it.
func WithUntrustedLeaf() Option { return func(s *Server) { s.untrusted = true } }

// Server is a Live Client Data API on a loopback HTTPS port. It is safe for
// concurrent use.
//
// Its phases follow the server clock: loading for Game.LoadingFor after
// New, then the game, then GameEnd and Game.PostGameFor of post-game, after
// which the API vanishes. The server keeps no timer on the clock, so it
// vanishes at the first request after that moment: that request's
// connection is cut, and later ones are refused.
//
// Where the real client's answers are not known precisely, it answers in
// the shape of Riot's local APIs, {"errorCode", "httpStatus",
// "implementationDetails", "message"}: 404 RESOURCE_NOT_FOUND while loading
// and for unknown paths and players, 400 INVALID_REQUEST for a bad or
// missing parameter, 405 for methods other than GET. Clients should rely
// on the status, not the message.
type Server struct {
	ts        *httptest.Server
	clock     clockwork.Clock
	untrusted bool
	roots     *x509.CertPool
	caPEM     []byte
	client    *http.Client
	pb        *playback
	speed     float64
	loadedAt  time.Time
	vanishAt  time.Time
	done      chan struct{} // closed by Close, for slow answers

	vanishOnce sync.Once
	closeOnce  sync.Once

	mu       sync.Mutex
	vanished bool
	faults   []*Fault
	stats    Stats
}

// New starts a server playing g and stops it when the test ends. A capture
// that does not decode, or a game that ends before it starts, fails t.
func New(t testing.TB, g Game, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		clock: clockwork.NewRealClock(),
		done:  make(chan struct{}),
		stats: Stats{Requests: make(map[string]int), MaxEventID: -1},
		speed: g.Speed,
	}
	for _, opt := range opts {
		opt(s)
	}
	if s.speed == 0 {
		s.speed = 1
	}
	if s.speed < 0 {
		t.Fatalf("lctest: speed %v is negative", g.Speed)
	}
	pb, err := newPlayback(g)
	if err != nil {
		t.Fatalf("lctest: %v", err)
	}
	s.pb = pb

	root, err := trustedRoot()
	if err != nil {
		t.Fatalf("lctest: %v", err)
	}
	signer := root
	if s.untrusted {
		if signer, err = impostorRoot(); err != nil {
			t.Fatalf("lctest: %v", err)
		}
	}
	leaf, err := signer.serve()
	if err != nil {
		t.Fatalf("lctest: %v", err)
	}
	s.caPEM = root.pem()
	s.roots = x509.NewCertPool()
	s.roots.AddCert(root.cert)
	s.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, // replaced by the pinned check below
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			return liveclient.VerifyChain(s.roots, raw)
		},
	}}}

	now := s.clock.Now()
	postGame := g.PostGameFor
	if postGame == 0 {
		postGame = defaultPostGame
	}
	s.loadedAt = now.Add(g.LoadingFor)
	s.vanishAt = s.loadedAt.Add(seconds((pb.end-pb.start)/s.speed) + postGame)

	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.ts.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
	// Handshakes a pinned client refuses would be logged; they are expected.
	s.ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.ts.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// seconds converts float seconds to a Duration.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// URL is the API's root, e.g. "https://127.0.0.1:41234": the game's
// https://127.0.0.1:2999 on another port.
func (s *Server) URL() string { return s.ts.URL }

// Client returns a client that trusts only CertPool's root and ignores the
// host name, as the bridge must. It refuses a WithUntrustedLeaf server.
func (s *Server) Client() *http.Client { return s.client }

// CAPEM is the PEM of the root that signs the server's leaf (unless
// WithUntrustedLeaf), an X.509 v1 certificate like Riot's riotgames.pem:
// what a ca_file option would hold.
func (s *Server) CAPEM() []byte { return append([]byte(nil), s.caPEM...) }

// CertPool holds CAPEM's root.
func (s *Server) CertPool() *x509.CertPool { return s.roots.Clone() }

// GameTime is the game time now, as gamestats reports it: the start while
// loading, EndAt from GameEnd on.
func (s *Server) GameTime() time.Duration {
	return seconds(s.gameTime(s.clock.Now()))
}

func (s *Server) gameTime(now time.Time) float64 {
	if now.Before(s.loadedAt) {
		return s.pb.start
	}
	return min(s.pb.start+now.Sub(s.loadedAt).Seconds()*s.speed, s.pb.end)
}

// Vanish makes the API go away now, as when the game client exits or
// crashes: the listener closes and open connections are cut. It is safe to
// call more than once.
func (s *Server) Vanish() {
	s.vanishOnce.Do(func() {
		s.mu.Lock()
		s.vanished = true
		s.mu.Unlock()
		// The listener's close error only repeats that it is closed.
		_ = s.ts.Listener.Close()
		s.ts.CloseClientConnections()
	})
}

// Close vanishes the API and waits for requests in flight. It is safe to
// call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.Vanish()
		s.ts.Close()
		s.client.CloseIdleConnections()
	})
}

// reply is an answer decided before it is written.
type reply struct {
	status      int
	contentType string
	body        []byte
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	endpoint := strings.TrimPrefix(r.URL.Path, "/liveclientdata/")
	if s.gone() {
		s.abort()
	}
	s.mu.Lock()
	s.stats.Requests[r.URL.Path]++
	if q := r.URL.Query(); endpoint == "eventdata" {
		id, ok := eventFrom(q)
		if !q.Has("eventID") || !ok {
			id = -1
		}
		s.countEventID(id)
	}
	f := s.takeFault(endpoint)
	s.mu.Unlock()

	if f != nil && f.Kind == Slow {
		select {
		case <-s.clock.After(f.Delay):
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
		if s.gone() {
			s.abort()
		}
	}
	rep := s.answer(s.clock.Now(), r, endpoint)
	if f != nil && f.Kind != Slow {
		rep = spoil(f, rep)
	}
	w.Header().Set("Content-Type", rep.contentType)
	w.WriteHeader(rep.status)
	// A failed write means the client went away; there is no one to tell.
	_, _ = w.Write(rep.body)
}

// gone reports whether the API has vanished, by Vanish or by the clock.
func (s *Server) gone() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vanished || !s.clock.Now().Before(s.vanishAt)
}

// abort cuts the request's connection once the API has vanished, and
// makes sure it has.
func (s *Server) abort() {
	s.Vanish()
	panic(http.ErrAbortHandler)
}

// answer is the real client's answer to r at now.
func (s *Server) answer(now time.Time, r *http.Request, endpoint string) reply {
	if r.Method != http.MethodGet {
		return errorReply(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method not allowed")
	}
	if !strings.HasPrefix(r.URL.Path, "/liveclientdata/") || !knownEndpoints[endpoint] {
		return errorReply(http.StatusNotFound, "RESOURCE_NOT_FOUND", "Invalid URI format")
	}
	if now.Before(s.loadedAt) {
		return errorReply(http.StatusNotFound, "RESOURCE_NOT_FOUND", "Game is loading")
	}
	gt := s.gameTime(now)
	pb := s.pb
	q := r.URL.Query()
	switch endpoint {
	case "allgamedata":
		from, ok := eventFrom(q)
		if !ok {
			return badParameter("eventID")
		}
		players := make([]object, len(pb.players))
		for i := range players {
			players[i] = pb.playerObject(i, gt)
		}
		return jsonReply(map[string]any{
			"activePlayer": pb.activePlayerObject(gt),
			"allPlayers":   players,
			"events":       map[string]any{"Events": pb.eventsAt(gt, from)},
			"gameData":     s.gameData(gt),
		})
	case "eventdata":
		from, ok := eventFrom(q)
		if !ok {
			return badParameter("eventID")
		}
		return jsonReply(map[string]any{"Events": pb.eventsAt(gt, from)})
	case "gamestats":
		return jsonReply(s.gameData(gt))
	case "activeplayer":
		return jsonReply(pb.activePlayerObject(gt))
	case "activeplayername":
		if pb.activePlayer == nil {
			return jsonReply(pb.activePlayerObject(gt))
		}
		return jsonReply(pb.activeName)
	case "activeplayerabilities", "activeplayerrunes":
		if pb.activePlayer == nil {
			return jsonReply(pb.activePlayerObject(gt))
		}
		member := map[string]string{"activeplayerabilities": "abilities", "activeplayerrunes": "fullRunes"}[endpoint]
		return jsonReply(pb.activePlayer[member])
	case "playerlist":
		team := q.Get("teamID")
		players := []object{}
		for i, p := range pb.players {
			if team == "" || team == "ALL" || strings.EqualFold(team, p.typed.Team) {
				players = append(players, pb.playerObject(i, gt))
			}
		}
		return jsonReply(players)
	default: // the per-player endpoints
		var i int
		var ok bool
		switch {
		case q.Has("riotId"):
			i, ok = pb.findPlayer(true, q.Get("riotId"))
		case q.Has("summonerName"):
			i, ok = pb.findPlayer(false, q.Get("summonerName"))
		default:
			return badParameter("riotId")
		}
		if !ok {
			return errorReply(http.StatusNotFound, "RESOURCE_NOT_FOUND", "No player with that name")
		}
		member := map[string]string{"playerscores": "scores", "playersummonerspells": "summonerSpells",
			"playermainrunes": "runes", "playeritems": "items"}[endpoint]
		return jsonReply(pb.playerObject(i, gt)[member])
	}
}

var knownEndpoints = map[string]bool{
	"allgamedata": true, "activeplayer": true, "activeplayername": true, "activeplayerabilities": true,
	"activeplayerrunes": true, "playerlist": true, "playerscores": true, "playersummonerspells": true,
	"playermainrunes": true, "playeritems": true, "eventdata": true, "gamestats": true,
}

// eventFrom is the first EventID asked for: eventID, or 0 without it.
func eventFrom(q url.Values) (int, bool) {
	if !q.Has("eventID") {
		return 0, true
	}
	n, err := strconv.Atoi(q.Get("eventID"))
	return n, err == nil
}

func (s *Server) gameData(gt float64) object {
	return with(s.pb.gameStats, "gameTime", mustValue(gt))
}

func badParameter(name string) reply {
	return errorReply(http.StatusBadRequest, "INVALID_REQUEST", "Invalid or missing parameter "+name)
}

// errorReply is the error body of Riot's local APIs.
func errorReply(status int, code, message string) reply {
	return jsonReply(struct {
		ErrorCode             string   `json:"errorCode"`
		HTTPStatus            int      `json:"httpStatus"`
		ImplementationDetails struct{} `json:"implementationDetails"`
		Message               string   `json:"message"`
	}{code, status, struct{}{}, message}).withStatus(status)
}

func (r reply) withStatus(status int) reply {
	r.status = status
	return r
}

// jsonReply encodes v as the client does: sorted keys, tab-indented.
func jsonReply(v any) reply {
	b, err := json.Marshal(v, json.Deterministic(true), jsontext.WithIndent("\t"))
	if err != nil {
		return reply{status: http.StatusInternalServerError, contentType: "text/plain; charset=utf-8", body: []byte(err.Error())}
	}
	return reply{status: http.StatusOK, contentType: "application/json", body: b}
}
