package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riftbridge/riftbridge/config"
	"github.com/riftbridge/riftbridge/riot/ratelimit"
	"github.com/riftbridge/riftbridge/state"
)

// puuidRefresh is how long a stored PUUID is trusted: PUUIDs never change,
// but a player may take a new Riot ID and free the old one.
const puuidRefresh = 24 * time.Hour

// backend is where a run keeps its state and its rate-limit budget: a bolt
// file and an in-memory limiter for one process, or Redis for replicas.
type backend struct {
	store    state.Store
	limiter  ratelimit.Reserver
	owner    string    // this process as the owner of the matches it emits
	replicas *replicas // nil with bolt: this process owns every player
	describe string    // for the start-up log line, without secrets
	closers  []func() error
}

func openBackend(cfg *config.Config, log *slog.Logger) (*backend, error) {
	appLimits, _ := ratelimit.ParseLimits(cfg.Riot.AppRateLimit) // validated
	limiterOpts := []ratelimit.Option{ratelimit.WithAppDefaults(appLimits), ratelimit.WithLogger(log)}
	be := &backend{owner: replicaID()}
	switch cfg.State.Backend {
	case config.StateRedis:
		url := cfg.Redis.URL.Reveal()
		state.RouteRedisLogs(log)
		store, err := state.NewRedis(url, state.RedisPrefix(cfg.Redis.Prefix))
		if err != nil {
			return nil, badInput{fmt.Errorf(`"redis.url": %w`, err)}
		}
		be.closers = append(be.closers, store.Close)
		limiter, err := ratelimit.NewShared(url, append(limiterOpts, ratelimit.WithPrefix(cfg.Redis.Prefix+"ratelimit:"))...)
		if err != nil {
			be.close()
			return nil, badInput{fmt.Errorf(`"redis.url": %w`, err)}
		}
		be.closers = append(be.closers, limiter.Close)
		be.store, be.limiter = store, limiter
		be.replicas = &replicas{id: be.owner, members: store, log: log}
		be.describe = "redis " + state.RedactURL(url)
	default:
		store, err := state.OpenBolt(cfg.State.Path)
		if errors.Is(err, state.ErrLocked) {
			return nil, fmt.Errorf(`"state.path": %w; run one process per state file, or state.backend redis for replicas`, err)
		}
		if err != nil {
			return nil, badInput{fmt.Errorf(`"state.path": %w`, err)}
		}
		be.closers = append(be.closers, store.Close)
		be.store, be.limiter = store, ratelimit.New(limiterOpts...)
		be.describe = "bolt " + cfg.State.Path
	}
	return be, nil
}

// close releases the store and the limiter; it is idempotent.
func (be *backend) close() error {
	var errs []error
	for i := len(be.closers) - 1; i >= 0; i-- {
		errs = append(errs, be.closers[i]())
	}
	be.closers = nil
	return errors.Join(errs...)
}
