package sink_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/sink"
	"github.com/riftbridge/riftbridge/sink/statsdtest"
)

const (
	sampleTimeline = "../samples/KR_7014499581.timeline.json"
	sampleMatch    = "../samples/KR_7014499581.match.json"
)

// sampleFrames maps the bundled match, one batch per frame, stamped with
// its true time as --backfill and `run` send it.
func sampleFrames(t testing.TB) []mapper.Batch {
	t.Helper()
	rec, err := riot.LoadRecording([]string{sampleTimeline}, sampleMatch)
	if err != nil {
		t.Fatal(err)
	}
	info := mapper.Describe(rec.Timeline, rec.Match)
	m := mapper.New(info, mapper.Options{})
	var out []mapper.Batch
	for i := range rec.Timeline.Info.Frames {
		out = append(out, m.Frame(&rec.Timeline.Info.Frames[i], mapper.Timebase{Origin: info.Start, Speed: 1}))
	}
	return out
}

// stdoutLines is what the stdout sink prints for frames: byte for byte what
// the Agent must receive.
func stdoutLines(t testing.TB, frames []mapper.Batch) []string {
	t.Helper()
	var buf bytes.Buffer
	s, err := sink.NewStdout(&buf, telemetry.Settings{}, sink.WithTimestamps(true))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range frames {
		if err := s.Write(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

// sendFrames writes each frame and flushes it, as `run` does, and returns
// the first Flush error.
func sendFrames(t testing.TB, s sink.Sink, frames []mapper.Batch) error {
	t.Helper()
	for i, b := range frames {
		if err := s.Write(t.Context(), b); err != nil {
			t.Fatalf("frame %d: Write: %v", i, err)
		}
		if err := s.Flush(t.Context()); err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
	}
	return nil
}

// checkAllArrived compares what srv received with the stdout sink's lines:
// the same multiset, nothing missing, nothing twice.
func checkAllArrived(t *testing.T, srv *statsdtest.Server, want []string) {
	t.Helper()
	got, err := srv.Sync(waitContext(t))
	if err != nil {
		t.Fatal(err)
	}
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if slices.Equal(got, want) {
		return
	}
	missing, extra := diffLines(want, got), diffLines(got, want)
	t.Errorf("received %d lines, want the stdout sink's %d: %d missing (first %q), %d unexpected (first %q)",
		len(got), len(want), len(missing), first(missing), len(extra), first(extra))
}

// diffLines returns the lines of a that b lacks, counting repeats; both
// sorted.
func diffLines(a, b []string) []string {
	var out []string
	for i, j := 0, 0; i < len(a); i++ {
		for j < len(b) && b[j] < a[i] {
			j++
		}
		if j < len(b) && b[j] == a[i] {
			j++
			continue
		}
		out = append(out, a[i])
	}
	return out
}

func first(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return lines[0]
}

// TestDeliveryWholeMatch sends the sample match, timestamped, frame by frame
// to Agents that do not keep up: every line the stdout sink prints must
// arrive, and every Flush must report success.
func TestDeliveryWholeMatch(t *testing.T) {
	frames := sampleFrames(t)
	want := stdoutLines(t, frames)
	socketLater := func(t *testing.T) (string, func() *statsdtest.Server) {
		path := filepath.Join(t.TempDir(), "dsd.socket")
		return "unix://" + path, func() *statsdtest.Server { return statsdtest.ListenUnixAt(t, path) }
	}
	portLater := func(t *testing.T) (string, func() *statsdtest.Server) {
		addr := statsdtest.FreeUDPAddr(t)
		return addr, func() *statsdtest.Server { return statsdtest.ListenUDPAt(t, addr, statsdtest.DefaultBuffer()) }
	}
	tests := []struct {
		name string
		// listen returns the address to send to, and the server, started
		// now or by the returned function, later.
		listen func(t *testing.T) (string, func() *statsdtest.Server)
		// late starts the server this long after the first write.
		late time.Duration
	}{
		{name: "udp with the kernel's default receive buffer", listen: func(t *testing.T) (string, func() *statsdtest.Server) {
			srv := statsdtest.ListenUDP(t, statsdtest.DefaultBuffer())
			return srv.Addr(), func() *statsdtest.Server { return srv }
		}},
		{name: "unix socket read at 500 datagrams per second", listen: func(t *testing.T) (string, func() *statsdtest.Server) {
			srv := statsdtest.ListenUnix(t, statsdtest.ReadRate(500))
			return srv.Addr(), func() *statsdtest.Server { return srv }
		}},
		{name: "unix socket whose reader hangs 3 s mid-match", listen: func(t *testing.T) (string, func() *statsdtest.Server) {
			srv := statsdtest.ListenUnix(t, statsdtest.PauseAfter(100, 3*time.Second))
			return srv.Addr(), func() *statsdtest.Server { return srv }
		}},
		{name: "unix socket missing at first", listen: socketLater, late: 2 * time.Second},
		{name: "udp port closed at first", listen: portLater, late: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			statsdtest.ClearEnv(t)
			addr, listen := tt.listen(t)
			var logs bridgetest.SyncBuffer
			s, err := sink.NewDogStatsD(addr, telemetry.Settings{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, testOptions(sink.WithTimestamps(true))...)
			if err != nil {
				t.Fatal(err)
			}
			srv := make(chan *statsdtest.Server, 1)
			if tt.late == 0 {
				srv <- listen()
			} else {
				time.AfterFunc(tt.late, func() { srv <- listen() })
			}
			if err := sendFrames(t, s, frames); err != nil {
				t.Fatalf("%v\nlog:\n%s", err, logs.String())
			}
			if err := s.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			checkAllArrived(t, <-srv, want)
			st := s.Stats()
			if st.PayloadsDropped != 0 || st.PointsWritten != uint64(st.Points) {
				t.Errorf("Stats() = %+v: want no payload dropped and every point written", st)
			}
			if tt.late > 0 && (st.PayloadsRetried == 0 || !strings.Contains(logs.String(), "the datadog agent is back")) {
				t.Errorf("the agent came late, yet Stats() = %+v and the log says:\n%s", st, logs.String())
			}
		})
	}
}

// BenchmarkDeliveryUDPPace sends the sample match, timestamped and frame
// by frame, at several paces into a UDP reader with the kernel's default
// receive buffer, and reports the share of lines that arrived: the pace at
// which nothing is lost, with margin, is DefaultUDPDatagramsPerSecond.
// Run with -benchtime=1x: one match per pace.
func BenchmarkDeliveryUDPPace(b *testing.B) {
	frames := sampleFrames(b)
	want := len(stdoutLines(b, frames))
	for _, pace := range []int{1000, 2000, 5000, 10000, 20000, 50000, 0} {
		b.Run(fmt.Sprintf("datagrams_per_second=%d", pace), func(b *testing.B) {
			statsdtest.ClearEnv(b)
			received, seconds, datagrams := 0, 0.0, uint64(0)
			for b.Loop() {
				srv := statsdtest.ListenUDP(b, statsdtest.DefaultBuffer())
				s, err := sink.NewDogStatsD(srv.Addr(), telemetry.Settings{}, testOptions(sink.WithTimestamps(true), sink.WithUDPRate(pace))...)
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if err := sendFrames(b, s, frames); err != nil {
					b.Fatal(err)
				}
				if err := s.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
				seconds += time.Since(start).Seconds()
				datagrams += s.Stats().PayloadsWritten
				// Unpaced, the kernel may drop Sync's marker too: then
				// count what arrived once the reader is done.
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				lines, err := srv.Sync(ctx)
				cancel()
				if err != nil {
					lines = srv.Lines()
				}
				received += len(lines)
			}
			b.ReportMetric(100*float64(received)/float64(want*b.N), "%delivered")
			b.ReportMetric(seconds/float64(b.N), "s/match")
			b.ReportMetric(float64(datagrams)/float64(b.N), "datagrams/match")
		})
	}
}

// BenchmarkDeliverMatch is how long the sample match, timestamped and
// flushed frame by frame as `run` sends a finished match, takes to reach
// the Agent over each transport at the default settings.
func BenchmarkDeliverMatch(b *testing.B) {
	frames := sampleFrames(b)
	for _, tr := range []struct {
		name   string
		listen func(testing.TB, ...statsdtest.Option) *statsdtest.Server
		opts   []statsdtest.Option
	}{
		{"udp", statsdtest.ListenUDP, nil},
		{"uds", statsdtest.ListenUnix, nil},
		{"uds_read_at_500_per_second", statsdtest.ListenUnix, []statsdtest.Option{statsdtest.ReadRate(500)}},
		{"uds_reader_hangs_3s", statsdtest.ListenUnix, []statsdtest.Option{statsdtest.PauseAfter(100, 3*time.Second)}},
	} {
		b.Run(tr.name, func(b *testing.B) {
			statsdtest.ClearEnv(b)
			srv := tr.listen(b, append(tr.opts, statsdtest.DefaultBuffer())...)
			var payloads uint64
			for b.Loop() {
				s, err := sink.NewDogStatsD(srv.Addr(), telemetry.Settings{}, testOptions(sink.WithTimestamps(true))...)
				if err != nil {
					b.Fatal(err)
				}
				if err := sendFrames(b, s, frames); err != nil {
					b.Fatal(err)
				}
				if err := s.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
				payloads += s.Stats().PayloadsWritten
			}
			b.ReportMetric(float64(payloads)/float64(b.N), "payloads/match")
		})
	}
}

// BenchmarkDeliveryStatsdExporter is the second opinion on the UDP pace: a
// real DogStatsD receiver, prometheus/statsd_exporter, on its default
// receive buffer, counts the lines it got (statsd_exporter_lines_total).
// It runs only with RIFTBRIDGE_STATSD_EXPORTER naming the binary:
//
//	GOBIN=/tmp/sx go install github.com/prometheus/statsd_exporter@v0.31.0
//	RIFTBRIDGE_STATSD_EXPORTER=/tmp/sx/statsd_exporter go test ./sink -run '^$' -bench DeliveryStatsdExporter -benchtime=1x
func BenchmarkDeliveryStatsdExporter(b *testing.B) {
	bin := os.Getenv("RIFTBRIDGE_STATSD_EXPORTER")
	if bin == "" {
		b.Skip("RIFTBRIDGE_STATSD_EXPORTER is not set")
	}
	frames := sampleFrames(b)
	want := len(stdoutLines(b, frames))
	for _, pace := range []int{1000, 2000, 5000, 10000, 20000, 0} {
		b.Run(fmt.Sprintf("datagrams_per_second=%d", pace), func(b *testing.B) {
			statsdtest.ClearEnv(b)
			received := 0.0
			for b.Loop() {
				udp, web := statsdtest.FreeUDPAddr(b), freeTCPAddr(b)
				cmd := exec.Command(bin, "--statsd.listen-udp="+udp, "--statsd.listen-tcp=", "--web.listen-address="+web, "--log.level=error")
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
				lines := func() float64 { return exporterLines(b, web) }
				for lines() < 0 {
					time.Sleep(20 * time.Millisecond)
				}
				s, err := sink.NewDogStatsD(udp, telemetry.Settings{}, testOptions(sink.WithTimestamps(true), sink.WithUDPRate(pace))...)
				if err != nil {
					b.Fatal(err)
				}
				if err := sendFrames(b, s, frames); err != nil {
					b.Fatal(err)
				}
				if err := s.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
				// Until the count stops moving.
				last := -1.0
				for n := lines(); n != last; n = lines() {
					last = n
					time.Sleep(500 * time.Millisecond)
				}
				received += last
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
			b.ReportMetric(100*received/float64(want*b.N), "%delivered")
		})
	}
}

func freeTCPAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// exporterLines reads how many lines statsd_exporter received, or -1 while
// it is not up yet. It counts the empty line after each datagram's final
// newline too, so one line per datagram is taken off.
func exporterLines(b *testing.B, web string) float64 {
	resp, err := http.Get("http://" + web + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	values := map[string]float64{}
	for line := range strings.SplitSeq(string(body), "\n") {
		for _, name := range []string{"statsd_exporter_lines_total", "statsd_exporter_udp_packets_total"} {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					b.Fatal(err)
				}
				values[name] = n
			}
		}
	}
	return values["statsd_exporter_lines_total"] - values["statsd_exporter_udp_packets_total"]
}

// TestDogStatsDFlushGivesUpWithContext: a flush waiting for an Agent that
// is away ends when its context does (a shutdown, a poll timeout), not
// after the patience; the next flush waits again, and delivers once the
// Agent is there.
func TestDogStatsDFlushGivesUpWithContext(t *testing.T) {
	statsdtest.ClearEnv(t)
	path := filepath.Join(t.TempDir(), "dsd.socket")
	s, err := sink.NewDogStatsD("unix://"+path, telemetry.Settings{}, testOptions(sink.WithTimestamps(true), sink.WithPatience(time.Hour))...)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	if err := s.Write(t.Context(), fixture()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	if err := s.Flush(ctx); !errors.Is(err, sink.ErrUndelivered) {
		t.Fatalf("Flush ended by its context: %v, want ErrUndelivered", err)
	}
	srv := statsdtest.ListenUnixAt(t, path)
	if err := s.Write(t.Context(), fixture()); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatalf("Flush with the agent back: %v", err)
	}
	got, err := srv.Sync(waitContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != fixtureLines() {
		t.Errorf("received %d lines, want the second write's %d", len(got), fixtureLines())
	}
}
