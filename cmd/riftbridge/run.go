package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/sourcegraph/conc"
	"github.com/spf13/cobra"

	"github.com/riftbridge/riftbridge/config"
	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/sink"
	"github.com/riftbridge/riftbridge/state"
)

const (
	// telemetryInterval matches the Agent's own flush interval.
	telemetryInterval = 10 * time.Second
	// shutdownBudget bounds the final flush once polling has stopped.
	shutdownBudget = 4 * time.Second
)

func newRunCmd(g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "run --config FILE",
		Short: "Watch players live and send their games to Datadog",
		Long: `Watch the players of the config file: spectator-v5 for live games, then
match-v5 match + timeline once each game is processed, mapped and sent to the
Datadog Agent. Editing the config file (or SIGHUP) applies new players and
intervals without a restart. SIGTERM or SIGINT stop polling, flush and exit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadRunConfig(cmd, g)
			if err != nil {
				return err
			}
			log := newLogger(cfg, stderr)
			return runBridge(cmd.Context(), cfg, g.configFile, cmd, stdout, log)
		},
	}
}

func loadRunConfig(cmd *cobra.Command, g *globalFlags) (*config.Config, error) {
	return loadConfig(cmd, g, nil, (*config.Config).ValidateRun)
}

// bridge is one `riftbridge run`: pollers → pipeline → sink, plus
// telemetry, health endpoints and config reloads.
type bridge struct {
	cfg       atomic.Pointer[config.Config]
	pollers   *riot.Pollers
	pipeline  *pipeline
	tel       *telemetry
	out       sink.Sink
	sinkStats func() sink.Stats
	transport string // the DogStatsD sink's, for its telemetry
	log       *slog.Logger
	ready     atomic.Bool
	// replicas is set with state.backend redis: this process polls its
	// share of the players.
	replicas *replicas
	assignMu sync.Mutex
}

// gcPercent is the GOGC of `run` unless GOGC says otherwise: a thousand
// players hold ~15 MB of live heap, which Go's default of 100 lets grow to
// twice that between collections. The bridge waits on the network; the
// collector's extra CPU is a fraction of a percent of a core (BENCHMARKS.md).
const gcPercent = 50

func runBridge(ctx context.Context, cfg *config.Config, configFile string, cmd *cobra.Command, stdout io.Writer, log *slog.Logger) error {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	key, err := cfg.Riot.Key()
	if err != nil {
		return badInput{err}
	}
	tel := newTelemetry()
	be, err := openBackend(cfg, log)
	if err != nil {
		return err
	}
	defer be.close()
	doer, err := riot.NewDoer(riot.DoerOptions{
		APIKey:     key.Reveal(),
		BaseURL:    cfg.Riot.BaseURL,
		HTTPClient: riot.NewHTTPClient(cfg.Riot.Timeout),
		Limiter:    be.limiter,
		MaxRetries: cfg.Riot.MaxRetries,
		Observer:   tel,
		Logger:     log,
	})
	if err != nil {
		return badInput{err}
	}
	// Finished matches carry their true timestamps; live points carry none.
	out, err := newSink(cfg, stdout, true, log)
	if err != nil {
		return err
	}
	defer out.Close()

	b := &bridge{tel: tel, out: out, log: log, replicas: be.replicas}
	b.cfg.Store(cfg)
	if d, ok := out.(*sink.DogStatsD); ok {
		b.sinkStats = d.Stats
		b.transport = d.Endpoint().Transport
	}
	client := riot.NewClient(doer)
	b.pipeline = newPipeline(out, mapper.Options{DropTags: cfg.Metrics.DropTags}, tel)
	b.pollers = &riot.Pollers{
		Client:    client,
		Spectator: &riot.Spectator{Client: client, Markers: be.store},
		Matches: &riot.Matches{
			Client: client,
			// Catch up on the games that ended while riftbridge was down;
			// the ledger skips those already emitted.
			Since:       time.Now().Add(-cfg.State.Lookback),
			GiveUpAfter: cfg.Pollers.Matches.GiveUpAfter,
			Concurrency: 4,
			Ledger:      be.store,
			Owner:       be.owner,
			// A holder stops with its poll, so a claim as long as the
			// poll timeout lapses only when its holder died, and another
			// replica resumes the match soon after.
			LeaseTTL: cfg.Pollers.Timeout,
			MaxAge:   state.DefaultRetention - 24*time.Hour,
			Logger:   log,
		},
		PUUIDs:       be.store,
		PUUIDRefresh: puuidRefresh,
		Intervals:    b.intervals,
		Jitter:       cfg.Pollers.Jitter,
		Timeout:      cfg.Pollers.Timeout,
		Observer:     tel,
		Logger:       log,
	}
	if b.replicas != nil {
		// Leave alone the matches another replica works on or waits for
		// Riot to process: it touches each every retry interval.
		b.pollers.Matches.AdoptAfter = 2*cfg.Pollers.Matches.RetryInterval + cfg.Pollers.Timeout
		// Join before polling, so this replica starts with its share.
		if _, err := b.replicas.beat(ctx, heartbeatEvery(cfg.Pollers.Spectator.Interval)); err != nil {
			return fmt.Errorf("cannot join the replicas: %w", err)
		}
	}
	// Once polling stops, at once: the others take the players over while
	// this one flushes.
	leave := sync.OnceFunc(func() {
		if b.replicas != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			b.replicas.leave(ctx)
		}
	})
	defer leave()
	b.assign()

	var bg conc.WaitGroup
	bgCtx, stopBackground := context.WithCancel(ctx)
	defer func() { stopBackground(); bg.Wait() }()
	if cfg.Health.Address != "" {
		ln, err := net.Listen("tcp", cfg.Health.Address)
		if err != nil {
			return badInput{fmt.Errorf(`"health.address": %w`, err)}
		}
		bg.Go(func() { b.serveHealth(bgCtx, ln) })
	}
	bg.Go(func() { b.flushTelemetryEvery(bgCtx) })
	if b.replicas != nil {
		bg.Go(func() { b.heartbeat(bgCtx) })
	}
	if configFile != "" {
		bg.Go(func() { b.watchConfig(bgCtx, configFile, cmd) })
	}

	attrs := append([]any{"players", len(cfg.Players), "sink", sinkName(out)}, transportAttrs(out)...)
	attrs = append(attrs, "state", be.describe, "spectator_interval", cfg.Pollers.Spectator.Interval, "matches_interval", cfg.Pollers.Matches.Interval)
	log.Info("riftbridge running", attrs...)
	b.ready.Store(true)
	runErr := b.pollers.Run(ctx, b.pipeline.emit)
	stopBackground()
	bg.Wait()
	leave()

	// Last word: what happened since the previous flush, then flush the sink.
	done := make(chan error, 1)
	go func() {
		werr := out.Write(context.Background(), b.telemetryBatch())
		done <- errors.Join(werr, out.Close())
	}()
	select {
	case err := <-done:
		switch {
		case errors.Is(err, sink.ErrUndelivered):
			// Self-telemetry and live gauges only: every match frame was
			// flushed, and recorded, on its own.
			log.Warn("the final self-telemetry did not reach the agent", "error", err)
		case err != nil && runErr == nil:
			runErr = fmt.Errorf("final flush: %w", err)
		}
	case <-time.After(shutdownBudget):
		log.Warn("sink did not flush in time; exiting anyway", "budget", shutdownBudget)
	}
	if errors.Is(runErr, riot.ErrKeyRejected) {
		return fmt.Errorf("%w: renew the key (development keys expire after 24 h) and restart", runErr)
	}
	return runErr
}

// assign polls the configured players, or with replicas this one's share.
func (b *bridge) assign() {
	// Reloads and heartbeats both assign: serialized, the last one reads
	// the latest config and members.
	b.assignMu.Lock()
	defer b.assignMu.Unlock()
	all := playerSpecs(b.cfg.Load().Players)
	if b.replicas == nil {
		b.pollers.SetPlayers(all)
		return
	}
	mine := b.replicas.own(all)
	b.pollers.SetPlayers(mine)
	b.log.Info("players assigned", "replica", b.replicas.id, "players", len(mine), "of", len(all), "replicas", b.replicas.count())
}

// heartbeat keeps this replica a member and rebalances the players whenever
// the live members change.
func (b *bridge) heartbeat(ctx context.Context) {
	for {
		every := heartbeatEvery(b.cfg.Load().Pollers.Spectator.Interval)
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		changed, err := b.replicas.beat(ctx, every)
		if err != nil {
			b.tel.stateUnavailable("membership", err)
		}
		if changed {
			b.assign()
		}
	}
}

func (b *bridge) intervals() riot.Intervals {
	p := b.cfg.Load().Pollers
	return riot.Intervals{Spectator: p.Spectator.Interval, Matches: p.Matches.Interval, Fetch: p.Matches.RetryInterval}
}

func playerSpecs(players []config.Player) []riot.PlayerSpec {
	out := make([]riot.PlayerSpec, 0, len(players))
	for _, p := range players {
		platform, _ := riot.NormalizePlatform(p.Platform) // validated
		out = append(out, riot.PlayerSpec{RiotID: p.RiotID, Platform: platform})
	}
	return out
}

// telemetryBatch is the bridge's self-telemetry since the last call.
func (b *bridge) telemetryBatch() mapper.Batch {
	resolved, total := b.pollers.Resolved()
	if b.sinkStats != nil {
		b.tel.recordSink(b.sinkStats(), b.transport)
	}
	gauges := map[string]float64{
		mapper.MetricBridgePlayers:         float64(total),
		mapper.MetricBridgePlayersResolved: float64(resolved),
		mapper.MetricBridgePlayersInGame:   float64(b.pipeline.playersInGame()),
		mapper.MetricBridgeGoroutines:      float64(runtime.NumGoroutine()),
		mapper.MetricBridgeHeap:            heapObjectBytes(),
	}
	if b.replicas != nil {
		gauges[mapper.MetricBridgeReplicas] = float64(b.replicas.count())
	}
	return b.tel.flush(gauges, time.Now())
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

func (b *bridge) flushTelemetryEvery(ctx context.Context) {
	t := time.NewTicker(telemetryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := b.out.Write(ctx, b.telemetryBatch()); err != nil && ctx.Err() == nil {
				b.log.Warn("cannot write self-telemetry", "error", err)
			}
		}
	}
}

// serveHealth answers /healthz (the process is up) and /readyz (every
// player is resolved and Riot accepts the key).
func (b *bridge) serveHealth(ctx context.Context, ln net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		resolved, total := b.pollers.Resolved()
		// Riot IDs Riot does not know are a config mistake to report, not
		// a reason to stay unready forever.
		unknown := b.pollers.Unknown()
		check := b.tel.canConnect()
		held := b.tel.held()
		switch {
		case !b.ready.Load():
			http.Error(w, "starting", http.StatusServiceUnavailable)
		case check.Status == mapper.CheckCritical:
			http.Error(w, "riot: "+check.Message, http.StatusServiceUnavailable)
		case held != "":
			http.Error(w, held, http.StatusServiceUnavailable)
		case resolved+len(unknown) < total:
			http.Error(w, fmt.Sprintf("resolving players: %d of %d", resolved, total), http.StatusServiceUnavailable)
		case len(unknown) > 0:
			fmt.Fprintf(w, "ready: %d players; riot knows no account for %s\n", total, strings.Join(unknown, ", "))
		default:
			fmt.Fprintf(w, "ready: %d players\n", total)
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		b.log.Error("health endpoint stopped", "address", ln.Addr().String(), "error", err)
	}
}

// watchConfig reloads the config file when it changes or on SIGHUP. New
// players and intervals apply at once; a bad file is reported and ignored,
// keeping the running config.
func (b *bridge) watchConfig(ctx context.Context, path string, cmd *cobra.Command) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var events <-chan fsnotify.Event
	if w, err := fsnotify.NewWatcher(); err != nil {
		b.log.Warn("cannot watch the config file; reload with SIGHUP", "file", path, "error", err)
	} else {
		defer w.Close()
		// Watch the directory: editors and Kubernetes replace the file.
		if err := w.Add(filepath.Dir(path)); err != nil {
			b.log.Warn("cannot watch the config file; reload with SIGHUP", "file", path, "error", err)
		}
		events = w.Events
	}
	// Editors write in several steps; settle before reading.
	const settle = 200 * time.Millisecond
	var pending <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-events:
			if filepath.Clean(ev.Name) == filepath.Clean(path) || filepath.Base(ev.Name) == "..data" {
				pending = time.After(settle)
			}
		case <-hup:
			pending = time.After(0)
		case <-pending:
			pending = nil
			b.reload(cmd)
		}
	}
}

func (b *bridge) reload(cmd *cobra.Command) {
	g := &globalFlags{configFile: cmd.Flag("config").Value.String()}
	next, err := loadRunConfig(cmd, g)
	if err != nil {
		b.log.Error("config reload failed; keeping the running config", "error", err)
		return
	}
	prev := b.cfg.Load()
	for key, same := range map[string]bool{
		"riot":    reflect.DeepEqual(prev.Riot, next.Riot),
		"statsd":  reflect.DeepEqual(prev.Statsd, next.Statsd),
		"sink":    prev.Sink == next.Sink,
		"metrics": reflect.DeepEqual(prev.Metrics, next.Metrics),
		"health":  prev.Health == next.Health,
		"state":   prev.State == next.State,
		"redis":   prev.Redis == next.Redis,
	} {
		if !same {
			b.log.Warn("config change needs a restart to apply", "section", key)
		}
	}
	b.cfg.Store(next)
	b.assign()
	b.log.Info("config reloaded", "players", len(next.Players),
		"spectator_interval", next.Pollers.Spectator.Interval, "matches_interval", next.Pollers.Matches.Interval)
}
