package live

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/api"
	"github.com/riftbridge/riftbridge/riot/riottest"
	"github.com/riftbridge/riftbridge/riot/source"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// t0 is where every fake clock starts.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// The bundled KR ranked match.
const (
	sampleMatch    = "../../samples/KR_7014499581.match.json"
	sampleTimeline = "../../samples/KR_7014499581.timeline.json"
)

// generous are limits no test here comes near, for tests about content.
var generous = riottest.WithAppLimits(riottest.Limit{Count: 500, Seconds: 10})

func newServer(tb testing.TB, opts ...riottest.Option) *riottest.Server {
	tb.Helper()
	srv := riottest.NewServer(opts...)
	tb.Cleanup(srv.Close)
	return srv
}

// newTestDoer builds a Doer for srv with its key and base URL, and an
// http.Client whose idle connections close with the test unless opts set
// one.
func newTestDoer(tb testing.TB, srv *riottest.Server, set telemetry.Settings, opts ...api.Option) *api.Doer {
	tb.Helper()
	tr := &http.Transport{}
	tb.Cleanup(tr.CloseIdleConnections)
	opts = append([]api.Option{
		api.WithBaseURL(srv.BaseURL()),
		api.WithHTTPClient(&http.Client{Transport: tr, Timeout: 10 * time.Second}),
	}, opts...)
	d, err := api.NewDoer(srv.Key(), set, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// plainClient is a client of ts, a plain server that plays Riot without
// riottest's rules, for documents riottest cannot make.
func plainClient(t *testing.T, ts *httptest.Server) *api.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	d, err := api.NewDoer("k", telemetry.Settings{}, api.WithBaseURL(ts.URL+"/{route}"), api.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		t.Fatal(err)
	}
	return api.NewClient(d)
}

// Pending reports how many matches wait for Riot to process them.
func (m *Matches) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}

// update is one thing a source emitted: a spectator observation, or a
// frame of a match.
type update struct {
	Live      *riot.Live
	Recording *riot.Recording
	Frame     int
	// Sent marks a frame an earlier run delivered: one before BeginMatch's
	// from, mapped for the running totals only.
	Sent bool
}

// emitFunc is a source.Emitter that hands every update to a function, the
// way the pipeline sees them, and checks the contract: frames in order, none
// after an error or the end.
type emitFunc func(context.Context, update) error

var _ source.Emitter = emitFunc(nil)

func (f emitFunc) Live(ctx context.Context, l riot.Live) error { return f(ctx, update{Live: &l}) }

func (f emitFunc) BeginMatch(ctx context.Context, rec *riot.Recording, from int) (source.Emission, error) {
	if n := len(rec.Timeline.Info.Frames); from < 0 || from > n {
		return nil, fmt.Errorf("begin at frame %d of %d", from, n)
	}
	for i := range from {
		if err := f(ctx, update{Recording: rec, Frame: i, Sent: true}); err != nil {
			return nil, err
		}
	}
	return &emission{emit: f, rec: rec, next: from}, nil
}

// BeginGame is for the Live Client source, which this package's sources
// never use.
func (f emitFunc) BeginGame(context.Context, string, int) (source.GameEmission, error) {
	return nil, errors.New("riot/live sources follow no game")
}

type emission struct {
	emit emitFunc
	rec  *riot.Recording
	next int
	done bool
}

var errFrameAfterEnd = errors.New("frame after the end of the emission")

func (e *emission) Frame(ctx context.Context, i int) error {
	if e.done {
		return errFrameAfterEnd
	}
	if i != e.next {
		return fmt.Errorf("frame %d out of order: want %d", i, e.next)
	}
	if err := e.emit(ctx, update{Recording: e.rec, Frame: i}); err != nil {
		e.done = true
		return err
	}
	e.next++
	return nil
}

func (e *emission) End() { e.done = true }

// updates collects emitted updates; safe for concurrent emits.
type updates struct {
	mu  sync.Mutex
	got []update
}

func (u *updates) emit(_ context.Context, up update) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.got = append(u.got, up)
	return nil
}

// emitter is u as a source.Emitter.
func (u *updates) emitter() source.Emitter { return emitFunc(u.emit) }

// frames returns, per match id, the frame indexes emitted in emit order.
func (u *updates) frames() map[string][]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := map[string][]int{}
	for _, up := range u.got {
		id := up.Recording.Match.Metadata.MatchID
		out[id] = append(out[id], up.Frame)
	}
	return out
}

func allFrames(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// blockUntil waits, for at most a few seconds, until n goroutines wait on clk.
func blockUntil(clk *clockwork.FakeClock, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return clk.BlockUntilContext(ctx, n)
}
