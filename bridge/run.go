package bridge

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/sourcegraph/conc"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/config"
	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/api"
	"github.com/riftbridge/riftbridge/riot/ingame"
	"github.com/riftbridge/riftbridge/riot/live"
	"github.com/riftbridge/riftbridge/riot/source"
	"github.com/riftbridge/riftbridge/sink"
	"github.com/riftbridge/riftbridge/state"
)

const (
	// telemetryInterval matches the Agent's own flush interval.
	telemetryInterval = 10 * time.Second
	// shutdownBudget bounds the final flush once polling has stopped.
	shutdownBudget = 4 * time.Second
	// gcPercent is the GOGC of a run unless GOGC says otherwise: a thousand
	// players hold ~15 MB of live heap, which Go's default of 100 lets grow
	// to twice that between collections. The bridge waits on the network;
	// the collector's extra CPU is a fraction of a percent of a core
	// (BENCHMARKS.md).
	gcPercent = 50
)

// run is one `riftbridge run`: pollers → pipeline → sink, plus telemetry,
// health endpoints, replicas and config reloads.
type run struct {
	cfg      atomic.Pointer[config.Config]
	load     func() (*config.Config, error)
	pollers  *live.Pollers
	pipeline *pipeline
	tel      *recorder
	out      sink.Sink
	log      *slog.Logger
	clock    clockwork.Clock
	ready    atomic.Bool
	// replicas is set with state.backend redis: this process polls its
	// share of the players.
	replicas *state.Replicas
	assignMu sync.Mutex
}

// Run is riftbridge run: it watches the players of the config load returns
// (spectator-v5 for live games, then match-v5 match and timeline once each
// game is processed) and sends what it sees to the sink, until ctx ends or
// Riot rejects the key. load is called again on every reload: a change to
// the file WithConfigFile names, or SIGHUP; a broken edit is logged and
// ignored. When ctx ends, polling stops and the sink is flushed within a
// few seconds.
func Run(ctx context.Context, load func() (*config.Config, error), opts ...Option) error {
	o := newOptions(opts)
	cfg, err := load()
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	log := NewLogger(cfg, o.stderr)
	clock := clockwork.NewRealClock()
	tel := newRecorder(clock)
	set := telemetry.Settings{Clock: clock, Logger: log, Observer: tel}
	be, err := openBackend(cfg, set)
	if err != nil {
		return err
	}
	defer be.close()
	// Finished matches carry their true timestamps; live points carry none.
	out, err := newSink(cfg, o.stdout, true, set)
	if err != nil {
		return err
	}
	defer out.Close(context.Background())

	r := &run{load: load, tel: tel, out: out, log: log, clock: clock, replicas: be.replicas}
	r.cfg.Store(cfg)
	r.pipeline = newPipeline(out, mapper.Options{DropTags: cfg.Metrics.DropTags}, tel, set.Clock)
	var sources []source.Source
	if len(cfg.Players) > 0 {
		if r.pollers, err = r.riotPollers(cfg, set, be); err != nil {
			return err
		}
		sources = append(sources, r.pollers)
	}
	if cfg.LiveClient.Enabled {
		f, err := newFollower(cfg.LiveClient, set, be.store)
		if err != nil {
			return err
		}
		sources = append(sources, f)
	}
	if r.replicas != nil {
		// Join before polling, so this replica starts with its share.
		if _, err := r.replicas.Beat(ctx, state.HeartbeatEvery(cfg.Pollers.Spectator.Interval)); err != nil {
			return fmt.Errorf("cannot join the replicas: %w", err)
		}
	}
	// Once polling stops, at once: the others take the players over while
	// this one flushes.
	leave := sync.OnceFunc(func() {
		if r.replicas != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			r.replicas.Leave(ctx)
		}
	})
	defer leave()
	r.assign()

	var bg conc.WaitGroup
	bgCtx, stopBackground := context.WithCancel(ctx)
	defer func() { stopBackground(); bg.Wait() }()
	if cfg.Health.Address != "" {
		ln, err := net.Listen("tcp", cfg.Health.Address)
		if err != nil {
			return &InputError{fmt.Errorf(`"health.address": %w`, err)}
		}
		bg.Go(func() { r.serveHealth(bgCtx, ln) })
	}
	bg.Go(func() { r.flushTelemetryEvery(bgCtx) })
	if r.replicas != nil {
		bg.Go(func() { r.heartbeat(bgCtx) })
	}
	bg.Go(func() { r.watchConfig(bgCtx, o.configFile) })

	attrs := append([]any{"players", len(cfg.Players), "sink", sinkName(out)}, transportAttrs(out)...)
	attrs = append(attrs, "state", be.describe, "spectator_interval", cfg.Pollers.Spectator.Interval, "matches_interval", cfg.Pollers.Matches.Interval)
	if cfg.LiveClient.Enabled {
		attrs = append(attrs, "liveclient", cfg.LiveClient.Address, "liveclient_interval", cfg.LiveClient.Interval)
	}
	log.Info("riftbridge running", attrs...)
	r.ready.Store(true)
	runErr := runAll(ctx, sources, r.pipeline)
	stopBackground()
	bg.Wait()
	leave()

	// Last word: what happened since the previous flush, then flush the
	// sink, within the shutdown budget.
	final, cancel := context.WithTimeout(context.Background(), shutdownBudget)
	defer cancel()
	err = errors.Join(out.Write(final, r.telemetryBatch()), out.Close(final))
	switch {
	case final.Err() != nil:
		log.Warn("sink did not flush in time; exiting anyway", "budget", shutdownBudget)
	case errors.Is(err, sink.ErrUndelivered):
		// Self-telemetry and live gauges only: every match frame was
		// flushed, and recorded, on its own.
		log.Warn("the final self-telemetry did not reach the agent", "error", err)
	case err != nil && runErr == nil:
		runErr = fmt.Errorf("final flush: %w", err)
	}
	if errors.Is(runErr, api.ErrKeyRejected) {
		return fmt.Errorf("%w: renew the key (development keys expire after 24 h) and restart", runErr)
	}
	return runErr
}

// riotPollers watches the configured players on the Riot API.
func (r *run) riotPollers(cfg *config.Config, set telemetry.Settings, be *backend) (*live.Pollers, error) {
	key, err := cfg.Riot.Key()
	if err != nil {
		return nil, &InputError{err}
	}
	doer, err := api.NewDoer(key.Reveal(), set,
		api.WithBaseURL(cfg.Riot.BaseURL),
		api.WithHTTPClient(api.NewHTTPClient(cfg.Riot.Timeout)),
		api.WithLimiter(be.limiter),
		api.WithMaxRetries(cfg.Riot.MaxRetries))
	if err != nil {
		return nil, &InputError{err}
	}
	client := api.NewClient(doer)
	matchOpts := []live.MatchesOption{
		// Catch up on the games that ended while riftbridge was down; the
		// ledger skips those already emitted.
		live.WithSince(set.Clock.Now().Add(-cfg.State.Lookback)),
		live.WithMaxAge(state.DefaultRetention - 24*time.Hour),
		live.WithGiveUpAfter(cfg.Pollers.Matches.GiveUpAfter),
		live.WithConcurrency(4),
		// A holder stops with its poll, so a claim as long as the poll
		// timeout lapses only when its holder died, and another replica
		// resumes the match soon after.
		live.WithLedger(be.store, be.owner, cfg.Pollers.Timeout),
	}
	if r.replicas != nil {
		// Leave alone the matches another replica works on or waits for
		// Riot to process: it touches each every retry interval.
		matchOpts = append(matchOpts, live.WithAdoptAfter(2*cfg.Pollers.Matches.RetryInterval+cfg.Pollers.Timeout))
	}
	return live.NewPollers(client,
		live.NewSpectator(client, live.WithMarkers(be.store)),
		live.NewMatches(client, set, matchOpts...),
		r.intervals, set,
		live.WithJitter(cfg.Pollers.Jitter),
		live.WithPollTimeout(cfg.Pollers.Timeout),
		live.WithPUUIDCache(be.store, puuidRefresh)), nil
}

// newFollower follows the games of the game client cfg names.
func newFollower(cfg config.LiveClient, set telemetry.Settings, cursors ingame.Cursors) (*ingame.Follower, error) {
	roots := ingame.RiotRoots()
	if cfg.CAFile != "" {
		certs, err := cfg.Roots()
		if err != nil {
			return nil, &InputError{fmt.Errorf(`"liveclient.ca_file": %w`, err)}
		}
		roots = x509.NewCertPool()
		for _, c := range certs {
			roots.AddCert(c)
		}
	}
	client := ingame.NewClient(cfg.Address, roots, max(2*time.Second, cfg.Interval))
	return ingame.NewFollower(client, set, ingame.WithCursors(cursors), ingame.WithInterval(cfg.Interval)), nil
}

// runAll runs every source into emit until ctx ends or one fails; a
// failure stops the others.
func runAll(ctx context.Context, sources []source.Source, emit source.Emitter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(sources))
	var wg conc.WaitGroup
	for i, src := range sources {
		wg.Go(func() {
			if errs[i] = src.Run(ctx, emit); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// assign polls the configured players, or with replicas this one's share.
func (r *run) assign() {
	// Reloads and heartbeats both assign: serialized, the last one reads
	// the latest config and members.
	r.assignMu.Lock()
	defer r.assignMu.Unlock()
	if r.pollers == nil {
		return // the Live Client source alone: no players to poll
	}
	all := playerSpecs(r.cfg.Load().Players)
	if r.replicas == nil {
		r.pollers.SetPlayers(all)
		return
	}
	var mine []live.PlayerSpec
	for _, p := range all {
		if r.replicas.Mine(p.Platform + ":" + p.RiotID) {
			mine = append(mine, p)
		}
	}
	r.pollers.SetPlayers(mine)
	r.log.Info("players assigned", "replica", r.replicas.ID(), "players", len(mine), "of", len(all), "replicas", r.replicas.Count())
}

// heartbeat keeps this replica a member and rebalances the players whenever
// the live members change.
func (r *run) heartbeat(ctx context.Context) {
	for {
		every := state.HeartbeatEvery(r.cfg.Load().Pollers.Spectator.Interval)
		t := r.clock.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.Chan():
		}
		changed, err := r.replicas.Beat(ctx, every)
		if err != nil {
			r.tel.stateUnavailable("membership", err)
		}
		if changed {
			r.assign()
		}
	}
}

func (r *run) intervals() live.Intervals {
	p := r.cfg.Load().Pollers
	return live.Intervals{Spectator: p.Spectator.Interval, Matches: p.Matches.Interval, Fetch: p.Matches.RetryInterval}
}

func playerSpecs(players []config.Player) []live.PlayerSpec {
	out := make([]live.PlayerSpec, 0, len(players))
	for _, p := range players {
		platform, _ := riot.NormalizePlatform(p.Platform) // validated
		out = append(out, live.PlayerSpec{RiotID: p.RiotID, Platform: platform})
	}
	return out
}

// telemetryBatch is the bridge's self-telemetry since the last call.
func (r *run) telemetryBatch() mapper.Batch {
	var resolved, total int
	if r.pollers != nil {
		resolved, total = r.pollers.Resolved()
	}
	gauges := map[string]float64{
		mapper.MetricBridgePlayers:         float64(total),
		mapper.MetricBridgePlayersResolved: float64(resolved),
		mapper.MetricBridgePlayersInGame:   float64(r.pipeline.playersInGame()),
		mapper.MetricBridgeGoroutines:      float64(runtime.NumGoroutine()),
		mapper.MetricBridgeHeap:            heapObjectBytes(),
	}
	if r.replicas != nil {
		gauges[mapper.MetricBridgeReplicas] = float64(r.replicas.Count())
	}
	return r.tel.flush(gauges, r.clock.Now())
}

// heapObjectBytes reads the heap in use without stopping the world, as
// runtime.ReadMemStats would.
func heapObjectBytes() float64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return float64(sample[0].Value.Uint64())
}

func (r *run) flushTelemetryEvery(ctx context.Context) {
	t := r.clock.NewTicker(telemetryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
			if err := r.out.Write(ctx, r.telemetryBatch()); err != nil && ctx.Err() == nil {
				r.log.Warn("cannot write self-telemetry", "error", err)
			}
		}
	}
}
