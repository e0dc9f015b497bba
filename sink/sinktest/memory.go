// Package sinktest holds sinks for tests: Memory keeps what it is given.
package sinktest

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/sink"
)

// Memory keeps every point and event written to it, for tests. Names are kept
// as written, without a namespace. The zero value is ready to use, and it is
// safe for concurrent use.
type Memory struct {
	mu     sync.Mutex
	points []mapper.Point
	events []mapper.Event
	checks []mapper.ServiceCheck
	closed bool
}

var _ sink.Sink = (*Memory)(nil)

// Write appends b. Like the other sinks, it fails once closed or when ctx is
// done, so tests catch writes after Close.
func (m *Memory) Write(ctx context.Context, b mapper.Batch) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("memory: %w", sink.ErrClosed)
	}
	m.points = append(m.points, b.Points...)
	m.events = append(m.events, b.Events...)
	m.checks = append(m.checks, b.ServiceChecks...)
	return nil
}

// Flush does nothing: nothing is buffered.
func (m *Memory) Flush(context.Context) error { return nil }

// Close makes later writes fail; closing again returns nil.
func (m *Memory) Close(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// Points returns a copy of the points written so far, in order.
func (m *Memory) Points() []mapper.Point {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.points)
}

// Events returns a copy of the events written so far, in order.
func (m *Memory) Events() []mapper.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events)
}

// ServiceChecks returns a copy of the service checks written so far.
func (m *Memory) ServiceChecks() []mapper.ServiceCheck {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.checks)
}

// Reset forgets everything written so far; a closed sink stays closed.
func (m *Memory) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.points, m.events, m.checks = nil, nil, nil
}

// Last returns the last point named name (without namespace) that carries
// every one of tags.
func (m *Memory) Last(name string, tags ...string) (mapper.Point, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.points) - 1; i >= 0; i-- {
		p := m.points[i]
		if p.Name == name && hasAll(p.Tags, tags) {
			return p, true
		}
	}
	return mapper.Point{}, false
}

func hasAll(have, want []string) bool {
	for _, t := range want {
		if !slices.Contains(have, t) {
			return false
		}
	}
	return true
}
