// Package sink delivers mapped points and events to a Datadog Agent over DogStatsD, or to stdout.
package sink

import (
	"context"

	"github.com/riftbridge/riftbridge/mapper"
)

// Sink receives mapped batches. Implementations are safe for concurrent use.
type Sink interface {
	// Write hands a batch to the sink. It may buffer; Flush forces delivery.
	Write(ctx context.Context, b mapper.Batch) error
	// Flush blocks until everything written so far is delivered or given
	// up on, and fails, with an error wrapping ErrUndelivered, if anything
	// written since the previous Flush was not delivered. A caller that
	// records what it sent writes and flushes under one lock, so that the
	// report is about its own writes; another writer's failure then only
	// fails it too, which costs a resend, never a loss.
	Flush(ctx context.Context) error
	// Close flushes, for no longer than ctx, and releases resources,
	// reporting as Flush does. It is idempotent.
	Close(ctx context.Context) error
}
