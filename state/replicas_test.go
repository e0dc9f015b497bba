package state

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/state/redisconn"
	"github.com/riftbridge/riftbridge/state/redistest"
)

// TestReplicasWaitAfterOutage: a replica back from a Redis outage longer
// than the heartbeat ttl keeps its players for one heartbeat instead of
// taking everyone's while the others have not heartbeated yet.
func TestReplicasWaitAfterOutage(t *testing.T) {
	// go-redis would print every failed dial while Redis is stopped.
	redisconn.RouteLogs(slog.New(slog.DiscardHandler))
	srv := redistest.Start(t)
	ctx := context.Background()
	const every = 100 * time.Millisecond
	prefix := redistest.Prefix(t, srv.URL)
	newReplica := func(id string) *Replicas {
		store := NewRedis(redistest.Conn(t, srv.URL), RedisPrefix(prefix))
		t.Cleanup(func() { _ = store.Close() })
		return NewReplicas(id, store, telemetry.Settings{})
	}
	a, b := newReplica("a"), newReplica("b")
	for _, r := range []*Replicas{a, b, a} {
		if _, err := r.Beat(ctx, every); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(a.live, []string{"a", "b"}) {
		t.Fatalf("a sees %v, want [a b]", a.live)
	}

	srv.Stop()
	if _, err := a.Beat(ctx, every); err == nil {
		t.Fatal("heartbeat with redis stopped succeeded")
	}
	time.Sleep(4 * every) // every member's heartbeat expires
	srv.Restart()
	if changed, err := a.Beat(ctx, every); err != nil || changed || !slices.Equal(a.live, []string{"a", "b"}) {
		t.Fatalf("first heartbeat back: changed %v, %v, sees %v; want no change, [a b]", changed, err, a.live)
	}
	for _, r := range []*Replicas{b, a} {
		if _, err := r.Beat(ctx, every); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(a.live, []string{"a", "b"}) {
		t.Errorf("once both heartbeated again a sees %v, want [a b]", a.live)
	}
}
