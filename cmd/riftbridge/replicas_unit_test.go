package main

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/state"
	"github.com/riftbridge/riftbridge/state/redistest"
)

// TestReplicasWaitAfterOutage: a replica back from a Redis outage longer
// than the heartbeat ttl keeps its players for one heartbeat instead of
// taking everyone's while the others have not heartbeated yet.
func TestReplicasWaitAfterOutage(t *testing.T) {
	// go-redis would print every failed dial while Redis is stopped.
	state.RouteRedisLogs(slog.New(slog.DiscardHandler))
	srv := redistest.Start(t)
	ctx := context.Background()
	const every = 100 * time.Millisecond
	prefix := redistest.Prefix(t, srv.URL)
	newReplica := func(id string) *replicas {
		store, err := state.NewRedis(srv.URL, state.RedisPrefix(prefix))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		return &replicas{id: id, members: store, log: slog.New(slog.DiscardHandler)}
	}
	a, b := newReplica("a"), newReplica("b")
	for _, r := range []*replicas{a, b, a} {
		if _, err := r.beat(ctx, every); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(a.live, []string{"a", "b"}) {
		t.Fatalf("a sees %v, want [a b]", a.live)
	}

	srv.Stop()
	if _, err := a.beat(ctx, every); err == nil {
		t.Fatal("heartbeat with redis stopped succeeded")
	}
	time.Sleep(4 * every) // every member's heartbeat expires
	srv.Restart()
	if changed, err := a.beat(ctx, every); err != nil || changed || !slices.Equal(a.live, []string{"a", "b"}) {
		t.Fatalf("first heartbeat back: changed %v, %v, sees %v; want no change, [a b]", changed, err, a.live)
	}
	for _, r := range []*replicas{b, a} {
		if _, err := r.beat(ctx, every); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(a.live, []string{"a", "b"}) {
		t.Errorf("once both heartbeated again a sees %v, want [a b]", a.live)
	}
}
