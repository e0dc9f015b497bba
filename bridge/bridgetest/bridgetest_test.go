package bridgetest

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestEventuallyWaitsForCond(t *testing.T) {
	var calls atomic.Int32
	Eventually(t, "third call", time.Minute, func() bool { return calls.Add(1) >= 3 })
	if n := calls.Load(); n != 3 {
		t.Errorf("cond called %d times, want 3", n)
	}
}

// fatalRecorder records a Fatalf instead of stopping the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
}

func TestEventuallyFailsWithExplanation(t *testing.T) {
	f := &fatalRecorder{TB: t}
	Eventually(f, "never", 30*time.Millisecond, func() bool { return f.msg != "" }, func() string { return "stderr: boom" })
	if !strings.Contains(f.msg, "waiting for never") || !strings.Contains(f.msg, "stderr: boom") {
		t.Errorf("failure %q lacks what and explanation", f.msg)
	}
}

func TestSyncBufferConcurrentReads(t *testing.T) {
	var b SyncBuffer
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 100 {
			fmt.Fprintln(&b, "line")
		}
	})
	for range 100 {
		_ = b.String()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "line\n"); n != 100 {
		t.Errorf("%d lines, want 100", n)
	}
}

func TestRecv(t *testing.T) {
	ch := make(chan int, 1)
	ch <- 7
	if got := Recv(t, ch, "seven", time.Minute); got != 7 {
		t.Errorf("Recv = %d, want 7", got)
	}
	f := &fatalRecorder{TB: t}
	if got := Recv(f, ch, "nothing", 10*time.Millisecond); got != 0 || !strings.Contains(f.msg, "waiting for nothing") {
		t.Errorf("Recv on an empty channel = %d, failure %q", got, f.msg)
	}
}
