package sink_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/sink"
	"github.com/riftbridge/riftbridge/sink/statsdtest"
)

var listeners = []struct {
	name   string
	listen func(testing.TB, ...statsdtest.Option) *statsdtest.Server
}{
	{"udp", statsdtest.ListenUDP},
	{"unix", statsdtest.ListenUnix},
}

// deliver writes b through a DogStatsD sink to srv, closes it, and returns
// every line srv received, sorted (the client spreads lines over workers),
// after checking that each one parses strictly.
func deliver(t *testing.T, srv *statsdtest.Server, b mapper.Batch, opts ...sink.Option) ([]string, sink.Stats) {
	t.Helper()
	s, err := sink.NewDogStatsD(srv.Addr(), telemetry.Settings{}, testOptions(opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	lines, err := srv.Sync(waitContext(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range lines {
		if _, err := statsdtest.ParseLine(line); err != nil {
			t.Error(err)
		}
	}
	slices.Sort(lines)
	return lines, s.Stats()
}

func TestDogStatsDWire(t *testing.T) {
	tests := []struct {
		name   string
		opts   []sink.Option
		batch  mapper.Batch
		want   []string
		errors uint64
	}{
		{
			name:  "stamped by the agent",
			batch: fixture(),
			want: []string{
				"_e{18,30}:Baron Nashor slain|Red took Baron.\\nGold lead 7k.|d:1712326878|k:KR_7014499581|s:riftbridge|t:success|#team:red",
				"lol.event.count:2|c|#event_type:champion_kill",
				"lol.participant.cs_per_min:7.25|g|#participant_id:3",
				"lol.team.gold:56649|g|#team:blue,queue:420",
				"lol.team.gold:64250|g|#team:red,queue:420",
			},
		},
		{
			name:  "timestamps",
			opts:  []sink.Option{sink.WithTimestamps(true)},
			batch: fixture(),
			want: []string{
				"_e{18,30}:Baron Nashor slain|Red took Baron.\\nGold lead 7k.|d:1712326878|k:KR_7014499581|s:riftbridge|t:success|#team:red",
				"lol.event.count:2|c|#event_type:champion_kill|T1712326878",
				"lol.participant.cs_per_min:7.25|g|#participant_id:3|T1712326878",
				"lol.team.gold:56649|g|#team:blue,queue:420|T1712326878",
				"lol.team.gold:64250|g|#team:red,queue:420|T1712326878",
			},
		},
		{
			name: "zero time is stamped by the agent",
			opts: []sink.Option{sink.WithTimestamps(true)},
			batch: mapper.Batch{
				Points: []mapper.Point{{Name: "match.game_time", Kind: mapper.Gauge, Value: 60.021}},
				Events: []mapper.Event{{Title: "Game start", AlertType: mapper.AlertInfo}},
			},
			want: []string{
				"_e{10,0}:Game start||s:riftbridge|t:info",
				"lol.match.game_time:60.021|g",
			},
		},
		{
			name:  "namespace and global tags",
			opts:  []sink.Option{sink.WithNamespace("rift"), sink.WithTags([]string{"region:kr", "tier:gold"})},
			batch: fixture(),
			want: []string{
				"_e{18,30}:Baron Nashor slain|Red took Baron.\\nGold lead 7k.|d:1712326878|k:KR_7014499581|s:riftbridge|t:success|#region:kr,tier:gold,team:red",
				"rift.event.count:2|c|#region:kr,tier:gold,event_type:champion_kill",
				"rift.participant.cs_per_min:7.25|g|#region:kr,tier:gold,participant_id:3",
				"rift.team.gold:56649|g|#region:kr,tier:gold,team:blue,queue:420",
				"rift.team.gold:64250|g|#region:kr,tier:gold,team:red,queue:420",
			},
		},
		{
			name:  "distribution and service checks",
			opts:  []sink.Option{sink.WithTimestamps(true)},
			batch: bridgeTelemetry(),
			want: []string{
				"_sc|lol.bridge.riot.can_connect|0|#platform:euw1",
				"_sc|lol.bridge.riot.can_connect|2|d:1712326878|#platform:kr|m:riot api key rejected (403)",
				"_sc|lol.check_x|1|#a_b|m:m/x",
				"lol.bridge.riot.latency:0.125|d|#endpoint:match-v5.getmatch",
			},
			errors: 2,
		},
		{
			name:  "no namespace",
			opts:  []sink.Option{sink.WithNamespace("")},
			batch: mapper.Batch{Points: fixture().Points[:1]},
			want:  []string{"team.gold:56649|g|#team:blue,queue:420"},
		},
		{
			name:  "hostile input",
			opts:  []sink.Option{sink.WithTimestamps(true)},
			batch: hostile(),
			want: []string{
				"_e{13,9}:Baron slain|x|a\\nb|c\\nd|k:KR_1_|s:riftbridge|t:info|#team:red_blue",
				"lol.s_oul.gold:3|c|T1712326878",
				"lol.team.gold_g_lol.fake_1:1|g|#team:blue_#x_y,evil:a_b,bad_tag|T1712326878",
			},
			errors: hostileErrors,
		},
	}
	for _, l := range listeners {
		for _, tt := range tests {
			t.Run(l.name+"/"+tt.name, func(t *testing.T) {
				statsdtest.ClearEnv(t)
				got, stats := deliver(t, l.listen(t), tt.batch, tt.opts...)
				if !slices.Equal(got, tt.want) {
					t.Errorf("received:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
				if stats.Errors != tt.errors || int(stats.Points+stats.Events+stats.ServiceChecks) != len(tt.want) {
					t.Errorf("Stats() = %+v, want %d errors and %d items sent", stats, tt.errors, len(tt.want))
				}
			})
		}
	}
}

func TestDogStatsDEnvTags(t *testing.T) {
	statsdtest.ClearEnv(t)
	t.Setenv("DD_ENV", "prod")
	t.Setenv("DD_SERVICE", "riftbridge")
	t.Setenv("DD_VERSION", "1.2.3")
	got, _ := deliver(t, statsdtest.ListenUDP(t), mapper.Batch{Points: fixture().Points[:1]}, sink.WithTags([]string{"region:kr"}))
	want := []string{"lol.team.gold:56649|g|#region:kr,env:prod,service:riftbridge,version:1.2.3,team:blue,queue:420"}
	if !slices.Equal(got, want) {
		t.Errorf("received %q, want %q", got, want)
	}
}

// TestDogStatsDAddressFromEnv leaves the address to datadog-go, as an empty
// statsd.address does.
func TestDogStatsDAddressFromEnv(t *testing.T) {
	for _, l := range listeners {
		t.Run(l.name, func(t *testing.T) {
			statsdtest.ClearEnv(t)
			srv := l.listen(t)
			if l.name == "udp" {
				t.Setenv("DD_AGENT_HOST", srv.Addr())
			} else {
				t.Setenv("DD_DOGSTATSD_URL", srv.Addr())
			}
			s, err := sink.NewDogStatsD("", telemetry.Settings{}, testOptions()...)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Write(t.Context(), mapper.Batch{Points: fixture().Points[:1]}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			got, err := srv.Sync(waitContext(t))
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"lol.team.gold:56649|g|#team:blue,queue:420"}; !slices.Equal(got, want) {
				t.Errorf("received %q, want %q", got, want)
			}
		})
	}
}

func TestNewDogStatsDRejects(t *testing.T) {
	tests := []struct {
		addr string
		opts []sink.Option
		want string
	}{
		{"", nil, "set statsd.address or DD_AGENT_HOST"},
		{"localhost", nil, `"localhost" is not host:port`},
		{"udp://localhost", nil, `"udp://localhost" is not host:port`},
		{":8125", nil, `":8125" is not host:port`},
		{"127.0.0.1:0", nil, "port must be a number from 1 to 65535"},
		{"127.0.0.1:65536", nil, "port must be a number from 1 to 65535"},
		{"127.0.0.1:statsd", nil, "port must be a number from 1 to 65535"},
		{"unix://var/run/dsd.socket", nil, `unix socket path must be absolute (unix:///var/run/datadog/dsd.socket), not "unix://var/run/dsd.socket"`},
		{"unix://", nil, "must be absolute"},
		{"tcp://127.0.0.1:8125", nil, `scheme "tcp" is not supported`},
		{"127.0.0.1:8125", []sink.Option{sink.WithPatience(0)}, "patience 0s: must be positive"},
		{"127.0.0.1:8125", []sink.Option{sink.WithUDPRate(-1)}, "udp rate -1: must be 0 (unpaced) or positive"},
		{"127.0.0.1:8125", []sink.Option{sink.WithNamespace("1lol")}, `namespace "1lol."`},
		{"127.0.0.1:8125", []sink.Option{sink.WithNamespace("lol-x")}, `namespace "lol-x."`},
		{"127.0.0.1:8125", []sink.Option{sink.WithTags([]string{"env:prod", "team|x"})}, `global tag "team|x"`},
		{"127.0.0.1:8125", []sink.Option{sink.WithTags([]string{""})}, `global tag ""`},
	}
	for _, tt := range tests {
		t.Run(tt.addr+tt.want, func(t *testing.T) {
			statsdtest.ClearEnv(t)
			s, err := sink.NewDogStatsD(tt.addr, telemetry.Settings{}, testOptions(tt.opts...)...)
			if err == nil {
				s.Close(t.Context())
				t.Fatal("NewDogStatsD succeeded")
			}
			if !strings.HasPrefix(err.Error(), "dogstatsd") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to start with dogstatsd and mention %q", err, tt.want)
			}
		})
	}
}

// TestDogStatsDDeadAgent: with nothing listening, every payload is dropped
// once the patience has passed, Flush says so, and the log says so once.
func TestDogStatsDDeadAgent(t *testing.T) {
	tests := []struct {
		name, addr, cause string
	}{
		{"udp port without listener", deadUDPAddr(t), "connection refused"},
		{"missing unix socket", "unix://" + filepath.Join(t.TempDir(), "missing.socket"), "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			statsdtest.ClearEnv(t)
			var logs bridgetest.SyncBuffer
			s, err := sink.NewDogStatsD(tt.addr, telemetry.Settings{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, testOptions(sink.WithPatience(200*time.Millisecond))...)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if err := s.Write(t.Context(), fixture()); err != nil {
					t.Fatalf("Write to a dead agent: %v", err)
				}
				err := s.Flush(t.Context())
				if !errors.Is(err, sink.ErrUndelivered) || !strings.Contains(err.Error(), tt.addr) || !strings.Contains(err.Error(), tt.cause) {
					t.Fatalf("Flush to a dead agent: %v, want ErrUndelivered naming %s and %q", err, tt.addr, tt.cause)
				}
			}
			if err := s.Close(t.Context()); err != nil {
				t.Errorf("Close with nothing left to send: %v", err)
			}
			st := s.Stats()
			// datadog-go spreads points and events over payloads.
			if st.PayloadsDropped < 3 || st.PointsDropped != 3*uint64(len(fixture().Points)) || st.PayloadsWritten != 0 || st.Errors != st.PayloadsDropped {
				t.Errorf("Stats() = %+v, want every payload and its points dropped, %d points", st, 3*len(fixture().Points))
			}
			log := logs.String()
			if n := strings.Count(log, "\n"); n != 1 || !strings.Contains(log, "level=WARN") ||
				!strings.Contains(log, "not taking payloads") || !strings.Contains(log, tt.addr) || !strings.Contains(log, tt.cause) {
				t.Errorf("want one warning naming %s and %q, logged %d lines:\n%s", tt.addr, tt.cause, n, log)
			}
		})
	}
}

// deadUDPAddr returns a local UDP address nothing listens on.
func deadUDPAddr(t *testing.T) string {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := conn.LocalAddr().String()
	conn.Close()
	return addr
}

func TestDogStatsDClose(t *testing.T) {
	for _, l := range listeners {
		t.Run(l.name, func(t *testing.T) {
			statsdtest.ClearEnv(t)
			srv := l.listen(t)
			s, err := sink.NewDogStatsD(srv.Addr(), telemetry.Settings{}, testOptions(sink.WithTimestamps(true))...)
			if err != nil {
				t.Fatal(err)
			}
			const n = 500
			for i := range n {
				p := mapper.Point{Name: "participant.gold", Kind: mapper.Gauge, Value: float64(i), Tags: []string{fmt.Sprintf("participant_id:%d", i)}, Time: at}
				if err := s.Write(t.Context(), mapper.Batch{Points: []mapper.Point{p}}); err != nil {
					t.Fatal(err)
				}
			}
			// No Flush: Close must deliver everything.
			if err := s.Close(t.Context()); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := s.Close(t.Context()); err != nil {
				t.Errorf("second Close: %v, want nil", err)
			}
			if err := s.Flush(t.Context()); err != nil {
				t.Errorf("Flush after Close: %v, want nil", err)
			}
			if err := s.Write(t.Context(), fixture()); !errors.Is(err, sink.ErrClosed) {
				t.Errorf("Write after Close: %v, want ErrClosed", err)
			}
			got, err := srv.Sync(waitContext(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != n {
				t.Errorf("received %d lines before Close returned, want %d", len(got), n)
			}
		})
	}
}

func TestDogStatsDCanceledContext(t *testing.T) {
	statsdtest.ClearEnv(t)
	srv := statsdtest.ListenUDP(t)
	s, err := sink.NewDogStatsD(srv.Addr(), telemetry.Settings{}, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(t.Context())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Write(ctx, fixture()); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a canceled context: %v, want context.Canceled", err)
	}
	if st := s.Stats(); st != (sink.Stats{}) {
		t.Errorf("Stats() = %+v after a canceled write, want zero", st)
	}
}

// TestDogStatsDConcurrent races writers, flushes and Close: every write that
// succeeded must arrive, every later one must fail with ErrClosed.
func TestDogStatsDConcurrent(t *testing.T) {
	statsdtest.ClearEnv(t)
	srv := statsdtest.ListenUnix(t)
	s, err := sink.NewDogStatsD(srv.Addr(), telemetry.Settings{}, testOptions(sink.WithTimestamps(true))...)
	if err != nil {
		t.Fatal(err)
	}
	const writers, batches = 8, 40
	var (
		wg       sync.WaitGroup
		accepted sync.Map // line → true
		started  = make(chan struct{})
	)
	for w := range writers {
		wg.Go(func() {
			for i := range batches {
				if i == batches/2 && w == 0 {
					close(started)
				}
				tag := fmt.Sprintf("w:%d_%d", w, i)
				b := mapper.Batch{Points: []mapper.Point{
					{Name: "team.gold", Kind: mapper.Gauge, Value: float64(i), Tags: []string{tag}, Time: at},
					{Name: "event.count", Kind: mapper.Count, Value: 1, Tags: []string{tag}, Time: at},
				}}
				err := s.Write(t.Context(), b)
				switch {
				case err == nil:
					accepted.Store(fmt.Sprintf("lol.team.gold:%d|g|#%s|T1712326878", i, tag), true)
					accepted.Store(fmt.Sprintf("lol.event.count:1|c|#%s|T1712326878", tag), true)
				case !errors.Is(err, sink.ErrClosed):
					t.Errorf("Write: %v", err)
				}
				if i%10 == 0 {
					if err := s.Flush(t.Context()); err != nil {
						t.Errorf("Flush: %v", err)
					}
					_ = s.Stats()
				}
			}
		})
	}
	<-started
	if err := s.Close(t.Context()); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()

	got, err := srv.Sync(waitContext(t))
	if err != nil {
		t.Fatal(err)
	}
	var want int
	accepted.Range(func(line, _ any) bool {
		want++
		if !slices.Contains(got, line.(string)) {
			t.Errorf("accepted but never received: %s", line)
		}
		return true
	})
	if len(got) != want || uint64(want) != s.Stats().Points {
		t.Errorf("received %d lines, accepted %d, Stats().Points = %d: want all equal", len(got), want, s.Stats().Points)
	}
}

func TestDogStatsDWithClient(t *testing.T) {
	statsdtest.ClearEnv(t)
	srv := statsdtest.ListenUDP(t)
	client, err := statsd.New(srv.Addr(), statsd.WithNamespace("custom"), statsd.WithoutTelemetry(), statsd.WithoutOriginDetection())
	if err != nil {
		t.Fatal(err)
	}
	// The client's own namespace applies; the sink's options for building a client do not.
	s, err := sink.NewDogStatsD("agent", telemetry.Settings{}, sink.WithClient(client), sink.WithNamespace("ignored"), sink.WithTimestamps(true))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), mapper.Batch{Points: fixture().Points[:1]}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !client.IsClosed() {
		t.Error("Close left the client open")
	}
	got, err := srv.Sync(waitContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"custom.team.gold:56649|g|#team:blue,queue:420|T1712326878"}; !slices.Equal(got, want) {
		t.Errorf("received %q, want %q", got, want)
	}
}

// BenchmarkDogStatsDWrite sends a frame-sized batch to a real UDP listener
// and flushes it, so points/s counts datagrams written to the socket.
func BenchmarkDogStatsDWrite(b *testing.B) {
	for _, stamped := range []bool{false, true} {
		b.Run(fmt.Sprintf("timestamps=%v", stamped), func(b *testing.B) {
			statsdtest.ClearEnv(b)
			conn, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				buf := make([]byte, 1<<16)
				for {
					if _, _, err := conn.ReadFrom(buf); err != nil {
						return
					}
				}
			}()
			b.Cleanup(func() { conn.Close(); <-done })

			// Unpaced: this measures the sink, not the pace.
			s, err := sink.NewDogStatsD(conn.LocalAddr().String(), telemetry.Settings{}, testOptions(sink.WithTimestamps(stamped), sink.WithUDPRate(0))...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close(context.Background()) })
			batch := frame500()
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
				if err := s.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch.Points))/b.Elapsed().Seconds(), "points/s")
		})
	}
}

// frame500 is about one real frame: 10 participants × 45 gauges, team and
// match points.
func frame500() mapper.Batch {
	var b mapper.Batch
	match := []string{"region:kr", "queue:420", "patch:14.7"}
	for id := 1; id <= 10; id++ {
		tags := append(slices.Clip(match), fmt.Sprintf("participant_id:%d", id), "champion:ahri", "position:middle")
		for m := range 45 {
			b.Points = append(b.Points, mapper.Point{Name: fmt.Sprintf("participant.metric_%d", m), Kind: mapper.Gauge, Value: float64(id * m), Tags: tags, Time: at})
		}
	}
	for _, team := range []string{"team:blue", "team:red"} {
		tags := append(slices.Clip(match), team)
		for m := range 25 {
			b.Points = append(b.Points, mapper.Point{Name: fmt.Sprintf("team.metric_%d", m), Kind: mapper.Count, Value: float64(m), Tags: tags, Time: at})
		}
	}
	return b
}

// TestDogStatsDBackpressure sends a batch of timestamped points larger than
// a whole match at once: with no client-side aggregation to absorb it, the
// sink must wait for the socket rather than let datadog-go drop payloads.
func TestDogStatsDBackpressure(t *testing.T) {
	statsdtest.ClearEnv(t)
	const n = 250_000
	b := mapper.Batch{Points: make([]mapper.Point, n)}
	for i := range b.Points {
		b.Points[i] = mapper.Point{Name: "participant.gold", Kind: mapper.Gauge, Value: float64(i),
			Tags: []string{"match_id:kr_7014499581", "participant_id:" + strconv.Itoa(i%10+1)}, Time: at}
	}
	for _, l := range []struct {
		name   string
		listen func(testing.TB, ...statsdtest.Option) *statsdtest.Server
	}{{"udp", statsdtest.ListenUDP}, {"unix", statsdtest.ListenUnix}} {
		t.Run(l.name, func(t *testing.T) {
			// Only the client's own drops are asserted: a kernel may still drop
			// UDP datagrams a slow reader leaves in its buffer.
			srv := l.listen(t)
			// Paced far above the default, to keep the test short.
			s, err := sink.NewDogStatsD(srv.Addr(), telemetry.Settings{}, testOptions(sink.WithTimestamps(true), sink.WithUDPRate(1_000_000))...)
			if err != nil {
				t.Fatal(err)
			}
			// One write and then frame-sized ones, as a finished match sends
			// them: the flush count runs across writes.
			if err := s.Write(t.Context(), b); err != nil {
				t.Fatal(err)
			}
			for chunk := range slices.Chunk(b.Points, 560) {
				if err := s.Write(t.Context(), mapper.Batch{Points: chunk}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			if errs := s.Stats().Errors; errs != 0 {
				t.Errorf("%d payloads dropped by the client for %d points; want none", errs, 2*n)
			}
		})
	}
}
