// Package bridgetest holds the helpers riftbridge's tests share.
package bridgetest

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Eventually polls cond every 10 ms until it holds, and fails t once timeout
// has passed: a guard against a hang, never a measure of speed. explain, if
// given, adds to the failure what helps tell why (a process's stderr).
func Eventually(t testing.TB, what string, timeout time.Duration, cond func() bool, explain ...func() string) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, e := range explain {
				b.WriteString("\n")
				b.WriteString(e())
			}
			t.Fatalf("timed out after %v waiting for %s%s", timeout, what, b.String())
		}
	}
}

// Recv receives from ch, and fails t if nothing comes within timeout: a
// guard against a hang, never a measure of speed.
func Recv[T any](t testing.TB, ch <-chan T, what string, timeout time.Duration) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
		var zero T
		return zero
	}
}

// ReadFile returns the file at path, a fixture, and fails tb if it cannot
// be read.
func ReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// SyncBuffer is a bytes.Buffer safe for one writer and concurrent readers:
// a logger or a process's output, read while it runs.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
