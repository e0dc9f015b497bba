// Package sink delivers mapped points and events to their destination: a Datadog Agent, stdout or memory.
package sink

import (
	"context"

	"github.com/riftbridge/riftbridge/mapper"
)

// Sink receives mapped batches. Implementations are safe for concurrent use.
type Sink interface {
	// Write hands a batch to the sink. It may buffer; Flush forces delivery.
	Write(ctx context.Context, b mapper.Batch) error
	// Flush blocks until buffered data is delivered.
	Flush() error
	// Close flushes and releases resources. It is idempotent.
	Close() error
}
