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
	"time"
	"unicode/utf8"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
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
			s, err := sink.NewStdout(&out, telemetry.Settings{}, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Write(t.Context(), join(fixture(), hostile(), bridgeTelemetry())); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(t.Context()); err != nil {
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
			b := join(fixture(), hostile(), bridgeTelemetry())
			sent, _ := deliver(t, statsdtest.ListenUDP(t), b, opts...)

			var out bytes.Buffer
			s, err := sink.NewStdout(&out, telemetry.Settings{}, opts...)
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
	s, err := sink.NewStdout(&w, telemetry.Settings{})
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
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(w.String(), "\n"); n != 2*perBatch {
		t.Errorf("after Close: %d lines, want %d", n, 2*perBatch)
	}
	if err := s.Close(t.Context()); err != nil {
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
	s, err := sink.NewStdout(failingWriter{}, telemetry.Settings{})
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
	if err := s.Close(t.Context()); !errors.Is(err, errDiskFull) {
		t.Errorf("Close: %v, want errDiskFull", err)
	}
}

func TestNewStdoutRejects(t *testing.T) {
	_, err := sink.NewStdout(os.Stdout, telemetry.Settings{}, sink.WithNamespace("lol|x"))
	if err == nil || !strings.Contains(err.Error(), `stdout: namespace "lol|x."`) {
		t.Errorf("NewStdout with a bad namespace: %v", err)
	}
}

func TestStdoutConcurrent(t *testing.T) {
	var out bytes.Buffer
	s, err := sink.NewStdout(&out, telemetry.Settings{}, sink.WithTimestamps(true))
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
	if err := s.Close(t.Context()); err != nil {
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

// TestTimestampBeforeEpoch: with timestamps on, a point stamped at or before
// 1970 is dropped as invalid by both sinks, not sent to be stamped "now".
func TestTimestampBeforeEpoch(t *testing.T) {
	statsdtest.ClearEnv(t)
	b := mapper.Batch{Points: []mapper.Point{
		{Name: "team.gold", Kind: mapper.Gauge, Value: 1, Time: time.Unix(-60, 0)},
		{Name: "team.gold", Kind: mapper.Gauge, Value: 2, Time: at},
	}}
	var out bytes.Buffer
	s, err := sink.NewStdout(&out, telemetry.Settings{}, sink.WithTimestamps(true))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := "lol.team.gold:2|g|T1712326878\n"; out.String() != want {
		t.Errorf("stdout printed %q, want %q", out.String(), want)
	}
	got, st := deliver(t, statsdtest.ListenUDP(t), b, sink.WithTimestamps(true))
	if len(got) != 1 || got[0] != "lol.team.gold:2|g|T1712326878" || st.Invalid != 1 {
		t.Errorf("the agent received %q with %d invalid, want only the 1712326878 point and one invalid", got, st.Invalid)
	}
}

// TestLongEventFits: an event longer than a UDP payload is cut to fit, "…"
// marking the cut, so the Agent receives the same line stdout prints,
// instead of datadog-go dropping it.
func TestLongEventFits(t *testing.T) {
	statsdtest.ClearEnv(t)
	b := mapper.Batch{Events: []mapper.Event{{
		Title: "Ace — " + strings.Repeat("é", 300), Text: strings.Repeat("Red wiped out blue.\n", 300),
		Time: at, Tags: []string{"team:red", "moment:ace"}, AggregationKey: "KR_7014499581", AlertType: mapper.AlertInfo,
	}}}
	var out bytes.Buffer
	s, err := sink.NewStdout(&out, telemetry.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	printed := strings.TrimSuffix(out.String(), "\n")
	got, st := deliver(t, statsdtest.ListenUDP(t), b)
	if len(got) != 1 || got[0] != printed || st.Invalid != 0 {
		t.Fatalf("the agent received %d lines (%d invalid), want the one stdout printed:\n%s", len(got), st.Invalid, printed)
	}
	ev, err := statsdtest.ParseLine(printed)
	if err != nil {
		t.Fatal(err)
	}
	if len(printed) > 1432 || !strings.HasSuffix(ev.Text, "…") || !strings.HasPrefix(ev.Title, "Ace — é") || !utf8.ValidString(ev.Title+ev.Text) {
		t.Errorf("event of %d bytes, title %q, text ending %q: want it under 1432 bytes, cut on a character boundary, marked with …",
			len(printed), ev.Title, ev.Text[max(0, len(ev.Text)-20):])
	}
}
