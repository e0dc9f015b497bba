package bridge

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchConfig reloads the config on SIGHUP, and when the file at path, if
// any, changes. New players and intervals apply at once; a bad file is
// reported and ignored, keeping the running config.
func (r *run) watchConfig(ctx context.Context, path string) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var events <-chan fsnotify.Event
	if path != "" {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			r.log.Warn("cannot watch the config file; reload with SIGHUP", "file", path, "error", err)
		} else {
			defer w.Close()
			// Watch the directory: editors and Kubernetes replace the file.
			if err := w.Add(filepath.Dir(path)); err != nil {
				r.log.Warn("cannot watch the config file; reload with SIGHUP", "file", path, "error", err)
			}
			events = w.Events
		}
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
				pending = r.clock.After(settle)
			}
		case <-hup:
			pending = r.clock.After(0)
		case <-pending:
			pending = nil
			r.reload()
		}
	}
}

func (r *run) reload() {
	next, err := r.load()
	if err != nil {
		r.log.Error("config reload failed; keeping the running config", "error", err)
		return
	}
	prev := r.cfg.Load()
	for key, same := range map[string]bool{
		"riot":    reflect.DeepEqual(prev.Riot, next.Riot),
		"statsd":  reflect.DeepEqual(prev.Statsd, next.Statsd),
		"sink":    prev.Sink == next.Sink,
		"metrics": reflect.DeepEqual(prev.Metrics, next.Metrics),
		"health":  prev.Health == next.Health,
		"state":   prev.State == next.State,
		"redis":   prev.Redis == next.Redis,
		// The follower holds its client and interval from the start.
		"liveclient": prev.LiveClient == next.LiveClient,
	} {
		if !same {
			r.log.Warn("config change needs a restart to apply", "section", key)
		}
	}
	if r.pollers == nil && len(next.Players) > 0 {
		r.log.Warn("config change needs a restart to apply: riftbridge started without players", "section", "players")
	}
	r.cfg.Store(next)
	r.assign()
	r.log.Info("config reloaded", "players", len(next.Players),
		"spectator_interval", next.Pollers.Spectator.Interval, "matches_interval", next.Pollers.Matches.Interval)
}
