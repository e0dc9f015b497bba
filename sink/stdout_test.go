package sink_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/sink"
	"github.com/riftbridge/riftbridge/sink/statsdtest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func join(batches ...mapper.Batch) mapper.Batch {
	var b mapper.Batch
	for _, x := range batches {
		b.Points = append(b.Points, x.Points...)
		b.Events = append(b.Events, x.Events...)
		b.ServiceChecks = append(b.ServiceChecks, x.ServiceChecks...)
	}
	return b
}

func TestStdoutGolden(t *testing.T) {
	tests := []struct {
		name string
		opts []sink.Option
	}{
		{"default", nil},
		{"timestamps", []sink.Option{sink.WithTimestamps(true)}},
		{"namespace_tags", []sink.Option{sink.WithNamespace("rift"), sink.WithTags([]string{"region:kr", "tier:gold"})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			s, err := sink.NewStdout(&out, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Write(t.Context(), join(fixture(), hostile(), telemetry())); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			for line := range strings.Lines(out.String()) {
				if _, err := statsdtest.ParseLine(strings.TrimSuffix(line, "\n")); err != nil {
					t.Error(err)
				}
			}
			golden := filepath.Join("testdata", tt.name, "stdout.golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./sink -run TestStdoutGolden -update to create it)", err)
			}
			if out.String() != string(want) {
				t.Errorf("output differs from %s:\n got:\n%s\nwant:\n%s", golden, out.String(), want)
			}
		})
	}
}

// TestStdoutMatchesDogStatsD pins the stdout format to what datadog-go really
// sends, for the same options.
func TestStdoutMatchesDogStatsD(t *testing.T) {
	for _, stamped := range []bool{false, true} {
		t.Run(fmt.Sprintf("timestamps=%v", stamped), func(t *testing.T) {
			statsdtest.ClearEnv(t)
			opts := []sink.Option{sink.WithTimestamps(stamped), sink.WithNamespace("rift"), sink.WithTags([]string{"region:kr"})}
			b := join(fixture(), hostile(), telemetry())
			sent, _ := deliver(t, statsdtest.ListenUDP(t), b, opts...)

			var out bytes.Buffer
			s, err := sink.NewStdout(&out, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Write(t.Context(), b); err != nil {
				t.Fatal(err)
			}
			if err := s.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			printed := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			slices.Sort(printed)
			if !slices.Equal(printed, sent) {
				t.Errorf("stdout:\n%s\ndatadog-go sent:\n%s", strings.Join(printed, "\n"), strings.Join(sent, "\n"))
			}
		})
	}
}

// closeRecorder fails the test if the sink closes the writer it was given.
type closeRecorder struct {
	bytes.Buffer
	closed bool
}

func (c *closeRecorder) Close() error {
	c.closed = true
	return nil
}

func TestStdoutBuffersAndKeepsWriterOpen(t *testing.T) {
	var w closeRecorder
	s, err := sink.NewStdout(&w)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), fixture()); err != nil {
		t.Fatal(err)
	}
	if w.Len() != 0 {
		t.Errorf("wrote %q before Flush, want it buffered", w.String())
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	perBatch := fixtureLines()
	if n := strings.Count(w.String(), "\n"); n != perBatch {
		t.Errorf("Flush wrote %d lines, want %d:\n%s", n, perBatch, w.String())
	}
	if err := s.Write(t.Context(), fixture()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(w.String(), "\n"); n != 2*perBatch {
		t.Errorf("after Close: %d lines, want %d", n, 2*perBatch)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	if w.closed {
		t.Error("Close closed the writer")
	}
	if err := s.Write(t.Context(), fixture()); !errors.Is(err, sink.ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Write(ctx, fixture()); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a canceled context: %v, want context.Canceled", err)
	}
}

var errDiskFull = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestStdoutWriterError(t *testing.T) {
	s, err := sink.NewStdout(failingWriter{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), fixture()); err != nil {
		t.Fatalf("Write into the buffer: %v", err)
	}
	if err := s.Flush(t.Context()); !errors.Is(err, errDiskFull) {
		t.Errorf("Flush: %v, want errDiskFull", err)
	}
	big := mapper.Batch{Points: slices.Repeat(fixture().Points, 500)}
	if err := s.Write(t.Context(), big); !errors.Is(err, errDiskFull) {
		t.Errorf("Write past the buffer: %v, want errDiskFull", err)
	}
	if err := s.Close(); !errors.Is(err, errDiskFull) {
		t.Errorf("Close: %v, want errDiskFull", err)
	}
}

func TestNewStdoutRejects(t *testing.T) {
	_, err := sink.NewStdout(os.Stdout, sink.WithNamespace("lol|x"))
	if err == nil || !strings.Contains(err.Error(), `stdout: namespace "lol|x."`) {
		t.Errorf("NewStdout with a bad namespace: %v", err)
	}
}

func TestStdoutConcurrent(t *testing.T) {
	var out bytes.Buffer
	s, err := sink.NewStdout(&out, sink.WithTimestamps(true))
	if err != nil {
		t.Fatal(err)
	}
	const writers, batches = 8, 50
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for i := range batches {
				if err := s.Write(t.Context(), fixture()); err != nil {
					t.Error(err)
				}
				if i%10 == 0 {
					if err := s.Flush(t.Context()); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if want := writers * batches * fixtureLines(); len(lines) != want {
		t.Errorf("%d lines, want %d", len(lines), want)
	}
	for _, line := range lines {
		if _, err := statsdtest.ParseLine(line); err != nil {
			t.Fatalf("interleaved output: %v", err)
		}
	}
}
