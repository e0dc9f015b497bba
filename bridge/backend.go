package bridge

import (
	"errors"
	"fmt"
	"time"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/config"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/ratelimit"
	"github.com/riftbridge/riftbridge/state"
	"github.com/riftbridge/riftbridge/state/redisconn"
)

// puuidRefresh is how long a stored PUUID is trusted: PUUIDs never change,
// but a player may take a new Riot ID and free the old one.
const puuidRefresh = 24 * time.Hour

// backend is where a run keeps its state and its rate-limit budget: a bolt
// file and an in-memory limiter for one process, or one Redis connection,
// shared by the store and the limiter, for replicas.
type backend struct {
	store    state.Store
	limiter  ratelimit.Reserver
	owner    string          // this process as the owner of the matches it emits
	replicas *state.Replicas // nil with bolt: this process owns every player
	describe string          // for the start-up log line, without secrets
	closers  []func() error
}

func openBackend(cfg *config.Config, set telemetry.Settings) (*backend, error) {
	appLimits, _ := riot.ParseLimits(cfg.Riot.AppRateLimit) // validated
	limiterOpts := []ratelimit.Option{ratelimit.WithAppDefaults(appLimits)}
	be := &backend{owner: state.ReplicaID()}
	switch cfg.State.Backend {
	case config.StateRedis:
		redisconn.RouteLogs(set.Logger)
		conn, err := redisconn.Open(cfg.Redis.URL.Reveal())
		if err != nil {
			return nil, &InputError{fmt.Errorf(`"redis.url": %w`, err)}
		}
		be.closers = append(be.closers, conn.Close)
		store := state.NewRedis(conn, state.RedisPrefix(cfg.Redis.Prefix))
		be.closers = append(be.closers, store.Close)
		be.store = store
		be.limiter = ratelimit.NewShared(conn, set, append(limiterOpts, ratelimit.WithPrefix(cfg.Redis.Prefix+"ratelimit:"))...)
		be.replicas = state.NewReplicas(be.owner, store, set)
		be.describe = "redis " + conn.Addr
	default:
		store, err := state.OpenBolt(cfg.State.Path, set)
		if errors.Is(err, state.ErrLocked) {
			return nil, fmt.Errorf(`"state.path": %w; run one process per state file, or state.backend redis for replicas`, err)
		}
		if err != nil {
			return nil, &InputError{fmt.Errorf(`"state.path": %w`, err)}
		}
		be.closers = append(be.closers, store.Close)
		be.store, be.limiter = store, ratelimit.New(set, limiterOpts...)
		be.describe = "bolt " + cfg.State.Path
	}
	return be, nil
}

// close releases the store and the connection; it is idempotent.
func (be *backend) close() error {
	var errs []error
	for i := len(be.closers) - 1; i >= 0; i-- {
		errs = append(errs, be.closers[i]())
	}
	be.closers = nil
	return errors.Join(errs...)
}
