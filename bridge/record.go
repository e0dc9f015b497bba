package bridge

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/jonboulle/clockwork"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/config"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/liveclient"
	"github.com/riftbridge/riftbridge/riot/source"
)

// RecordSummary is what a recording holds.
type RecordSummary struct {
	File   string
	Game   string // the game's key; "" when no game was recorded
	Polls  int
	Events int
}

// Record is riftbridge record: it waits for the game client at
// liveclient.address to serve a game, follows it as a run would, and saves
// every answer to the file at path (gzipped when it ends in .gz) until the
// game ends, the API goes away or ctx ends. `riftbridge replay --liveclient`
// plays the file back. An existing file is never overwritten.
func Record(ctx context.Context, load func() (*config.Config, error), path string, opts ...Option) (RecordSummary, error) {
	o := newOptions(opts)
	cfg, err := load()
	if err != nil {
		return RecordSummary{}, err
	}
	log := NewLogger(cfg, o.stderr)
	set := telemetry.Settings{Clock: clockwork.NewRealClock(), Logger: log}
	// No cursors: a recording holds its game from the first event.
	follower, err := newFollower(cfg.LiveClient, set, nil)
	if err != nil {
		return RecordSummary{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return RecordSummary{}, &InputError{fmt.Errorf("record: %w", err)}
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		zw = gzip.NewWriter(f)
		w = zw
	}
	rw, err := liveclient.NewRecordWriter(w, cfg.LiveClient.Address)
	if err != nil {
		f.Close()
		os.Remove(path)
		return RecordSummary{}, fmt.Errorf("record %s: %w", path, err)
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	rec := &recorderEmitter{w: rw, stop: stop, sum: RecordSummary{File: path}}
	log.Info("waiting for a game", "liveclient", cfg.LiveClient.Address, "file", path)
	runErr := follower.Run(ctx, rec)

	var closeErr error
	if zw != nil {
		closeErr = zw.Close()
	}
	closeErr = errors.Join(closeErr, f.Close())
	sum, writeErr := rec.result()
	if sum.Polls == 0 {
		// Nothing recorded: leave no empty file behind.
		os.Remove(path)
	}
	if err := errors.Join(runErr, writeErr, closeErr); err != nil {
		return sum, fmt.Errorf("record %s: %w", path, err)
	}
	return sum, nil
}

// recorderEmitter is the Emitter of a recording: it writes each poll of the
// first game followed, and stops the follower once that game is over.
type recorderEmitter struct {
	w    *liveclient.RecordWriter
	stop context.CancelFunc

	mu  sync.Mutex
	sum RecordSummary
	err error
}

var _ source.Emitter = (*recorderEmitter)(nil)

func (r *recorderEmitter) Live(context.Context, riot.Live) error {
	return errors.New("a recording takes no spectator observation")
}

func (r *recorderEmitter) BeginMatch(context.Context, *riot.Recording, int) (source.Emission, error) {
	return nil, errors.New("a recording takes no finished match")
}

func (r *recorderEmitter) BeginGame(_ context.Context, key string, _ int) (source.GameEmission, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sum.Game != "" && r.sum.Game != key {
		return nil, errors.New("a recording holds one game")
	}
	r.sum.Game = key
	return &recordedGame{r: r}, nil
}

func (r *recorderEmitter) result() (RecordSummary, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sum, r.err
}

// recordedGame writes the polls of the recorded game.
type recordedGame struct {
	r    *recorderEmitter
	done bool
}

func (g *recordedGame) Poll(_ context.Context, p source.GamePoll) error {
	r := g.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.w.Write(p.At, p.RawGame, p.RawEvents); err != nil {
		// The disk is full or gone: nothing more can be saved.
		r.err = err
		r.stop()
		return err
	}
	r.sum.Polls++
	r.sum.Events += len(p.Events)
	return nil
}

// End stops the recording: the game is over, or no longer served.
func (g *recordedGame) End() {
	if !g.done {
		g.done = true
		g.r.stop()
	}
}
