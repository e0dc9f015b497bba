package state

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
)

// maxHeartbeat caps the membership heartbeat, so a replica that dies is
// replaced within about three of them even with long poll intervals.
const maxHeartbeat = 10 * time.Second

// Replicas splits the players among the riftbridge processes that share a
// Redis: each heartbeats its membership and polls the players that
// rendezvous hashing gives it among the live members, so a replica joining
// or dying moves only its share. It is safe for concurrent use.
type Replicas struct {
	id      string
	members Membership
	log     *slog.Logger

	mu   sync.Mutex
	live []string // members at the last successful heartbeat
	down bool     // the last heartbeat failed
	// joined is set by the first successful heartbeat: before it there
	// are no current players to keep, and the caller reports the failure.
	joined bool
}

// NewReplicas returns this process, id, among the replicas of members.
func NewReplicas(id string, members Membership, set telemetry.Settings) *Replicas {
	return &Replicas{id: id, members: members, log: set.Defaults().Logger}
}

// ID is this replica's name among the members.
func (r *Replicas) ID() string { return r.id }

// ReplicaID names this process among replicas and as the owner of the
// matches it emits: unique even for two processes on one host.
func ReplicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// HeartbeatEvery is a third of the spectator interval, at most 10 s: a
// member expires after three missed heartbeats, so its players move within
// about one poll interval.
func HeartbeatEvery(spectator time.Duration) time.Duration {
	return min(max(spectator/3, 100*time.Millisecond), maxHeartbeat)
}

// Beat announces this replica for three heartbeats of every and reads the
// live members. It reports whether they changed. On failure the previous
// members stay: polling nobody, or everybody, would be worse than a short
// overlap.
func (r *Replicas) Beat(ctx context.Context, every time.Duration) (changed bool, err error) {
	err = r.members.Heartbeat(ctx, r.id, 3*every)
	var live []string
	if err == nil {
		live, err = r.members.Members(ctx)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		if !r.down && r.joined {
			r.log.Warn("cannot reach the other replicas; keeping the current players", "replica", r.id, "error", err)
		}
		r.down = true
		return false, err
	}
	if r.down {
		r.log.Info("replicas reachable again", "replica", r.id, "replicas", len(live))
		r.down = false
		// An outage longer than the heartbeat ttl expired every member:
		// the first back would see itself alone and take every player,
		// only to hand most back a heartbeat later. Wait for the others.
		return false, nil
	}
	r.joined = true
	changed = !slices.Equal(live, r.live)
	r.live = live
	return changed, nil
}

// Mine reports whether the player key (platform:riot id) is this
// replica's to poll: rendezvous hashing over the live members.
func (r *Replicas) Mine(key string) bool {
	r.mu.Lock()
	live := r.live
	r.mu.Unlock()
	if !slices.Contains(live, r.id) {
		// Not yet seen by Redis: rendezvous over the others plus this one,
		// which is what the others compute once its heartbeat lands.
		live = append(slices.Clone(live), r.id)
	}
	return Owner(live, key) == r.id
}

// Count reports the live replicas, this one included.
func (r *Replicas) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.live)
}

// Leave removes this replica at once, so the others take its players
// without waiting for its heartbeat to expire.
func (r *Replicas) Leave(ctx context.Context) {
	if err := r.members.Leave(ctx, r.id); err != nil {
		r.log.Warn("cannot leave the replicas; they take over when the heartbeat expires", "replica", r.id, "error", err)
	}
}
