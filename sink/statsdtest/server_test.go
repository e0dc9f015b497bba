package statsdtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// hangGuard only turns a hang into a failure that shows the lines received;
// nothing here measures time.
const hangGuard = 30 * time.Second

func waitContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	t.Cleanup(cancel)
	return ctx
}

func atLeast(n int) func([]string) bool {
	return func(lines []string) bool { return len(lines) >= n }
}

var listeners = []struct {
	name    string
	listen  func(testing.TB, ...Option) *Server
	network string
}{
	{"udp", ListenUDP, "udp"},
	{"unix", ListenUnix, "unixgram"},
}

// dial opens a plain socket to s, as any DogStatsD client would.
func dial(t *testing.T, s *Server, network string) net.Conn {
	t.Helper()
	conn, err := net.Dial(network, strings.TrimPrefix(s.Addr(), "unix://"))
	if err != nil {
		t.Fatalf("dial %s: %v", s.Addr(), err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestServerCollectsLines(t *testing.T) {
	for _, l := range listeners {
		t.Run(l.name, func(t *testing.T) {
			s := l.listen(t)
			conn := dial(t, s, l.network)
			for _, datagram := range []string{"a:1|g\nb:2|c\n", "\n", "c:3|g"} {
				if _, err := conn.Write([]byte(datagram)); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			got, err := s.WaitFor(waitContext(t), atLeast(3))
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"a:1|g", "b:2|c", "c:3|g"}
			if !slices.Equal(got, want) {
				t.Errorf("WaitFor lines = %q, want %q", got, want)
			}
			if lines := s.Lines(); !slices.Equal(lines, want) {
				t.Errorf("Lines() = %q, want %q", lines, want)
			}
		})
	}
}

func TestSync(t *testing.T) {
	for _, l := range listeners {
		t.Run(l.name, func(t *testing.T) {
			s := l.listen(t)
			conn := dial(t, s, l.network)
			send := func(datagram string) {
				t.Helper()
				if _, err := conn.Write([]byte(datagram)); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			for i := range 200 {
				send(fmt.Sprintf("burst:%d|c", i))
			}
			got, err := s.Sync(waitContext(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 200 || got[0] != "burst:0|c" || got[199] != "burst:199|c" {
				t.Fatalf("Sync returned %d lines (%q … %q), want burst:0 … burst:199", len(got), got[0], got[len(got)-1])
			}
			send("after:1|g")
			got, err = s.Sync(waitContext(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 201 || got[200] != "after:1|g" {
				t.Errorf("second Sync returned %d lines ending %q, want 201 ending after:1|g", len(got), got[len(got)-1])
			}
			if lines := s.Lines(); len(lines) != 201 {
				t.Errorf("Lines() has %d lines, want 201 without sync markers", len(lines))
			}
		})
	}
}

func TestServerAddr(t *testing.T) {
	if addr := ListenUDP(t).Addr(); !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("UDP Addr() = %q, want 127.0.0.1:port", addr)
	}
	if addr := ListenUnix(t).Addr(); !strings.HasPrefix(addr, "unix:///") || !strings.HasSuffix(addr, "/dsd.socket") {
		t.Errorf("Unix Addr() = %q, want unix:///.../dsd.socket", addr)
	}
}

func TestWaitForContextDone(t *testing.T) {
	s := ListenUDP(t)
	conn := dial(t, s, "udp")
	if _, err := conn.Write([]byte("a:1|g")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WaitFor(waitContext(t), atLeast(1)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	lines, err := s.WaitFor(ctx, atLeast(2))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("WaitFor error = %v, want context.Canceled", err)
	}
	if !slices.Equal(lines, []string{"a:1|g"}) {
		t.Errorf("WaitFor returned %q, want the lines so far", lines)
	}
}

func TestWaitForStoppedServer(t *testing.T) {
	var s *Server
	t.Run("listen", func(t *testing.T) { s = ListenUnix(t) })
	// The subtest's cleanup has stopped the server: waiting must not hang.
	_, err := s.WaitFor(context.Background(), atLeast(1))
	if err == nil || !strings.Contains(err.Error(), "reading stopped") {
		t.Errorf("WaitFor on a stopped server: error %v, want reading stopped", err)
	}
}

// TestParsesDatadogGo checks the parser against what the real client sends,
// for every kind of line it can produce.
func TestParsesDatadogGo(t *testing.T) {
	ClearEnv(t)
	at := time.Unix(1712345678, 0)
	want := []Datagram{
		{Kind: Metric, Name: "ns.gauge", Value: 1.5, Type: "g", Rate: 1, Tags: []string{"g:1", "a:b"}},
		{Kind: Metric, Name: "ns.count", Value: -3, Type: "c", Rate: 1, Tags: []string{"g:1"}, Timestamp: at.Unix()},
		{Kind: Metric, Name: "ns.hist", Value: 0.25, Type: "h", Rate: 1, Tags: []string{"g:1"}},
		{Kind: Metric, Name: "ns.dist", Value: 42, Type: "d", Rate: 1, Tags: []string{"g:1"}},
		{Kind: Metric, Name: "ns.timing", Value: 12, Type: "ms", Rate: 1, Tags: []string{"g:1"}},
		{Kind: Metric, Name: "ns.set", Value: 7, Type: "s", Rate: 1, Tags: []string{"g:1"}},
		{Kind: Event, Title: "Baron", Text: "line one\nline | two", Timestamp: at.Unix(), Hostname: "h1", AggregationKey: "KR_1", Priority: "low", SourceType: "riftbridge", AlertType: "warning", Tags: []string{"g:1", "team:red"}},
		{Kind: ServiceCheck, Name: "ns.up", Status: 1, Timestamp: at.Unix(), Hostname: "h1", Tags: []string{"g:1"}, Message: "slow m: yes\nsee logs"},
	}
	for _, l := range listeners {
		t.Run(l.name, func(t *testing.T) {
			s := l.listen(t)
			c, err := statsd.New(s.Addr(), statsd.WithNamespace("ns"), statsd.WithTags([]string{"g:1"}),
				statsd.WithoutTelemetry(), statsd.WithoutClientSideAggregation())
			if err != nil {
				t.Fatal(err)
			}
			for _, err := range []error{
				c.Gauge("gauge", 1.5, []string{"a:b"}, 1),
				c.CountWithTimestamp("count", -3, nil, 1, at),
				c.Histogram("hist", 0.25, nil, 1),
				c.Distribution("dist", 42, nil, 1),
				c.Timing("timing", 12*time.Millisecond, nil, 1),
				c.Set("set", "7", nil, 1),
				c.Event(&statsd.Event{Title: "Baron", Text: "line one\nline | two", Timestamp: at, Hostname: "h1",
					AggregationKey: "KR_1", Priority: statsd.Low, SourceTypeName: "riftbridge", AlertType: statsd.Warning, Tags: []string{"team:red"}}),
				c.ServiceCheck(&statsd.ServiceCheck{Name: "ns.up", Status: statsd.Warn, Timestamp: at, Hostname: "h1", Message: "slow m: yes\nsee logs"}),
				c.Close(),
			} {
				if err != nil {
					t.Fatal(err)
				}
			}
			lines, err := s.WaitFor(waitContext(t), atLeast(len(want)))
			if err != nil {
				t.Fatal(err)
			}
			got := make([]Datagram, len(lines))
			for i, line := range lines {
				if got[i], err = ParseLine(line); err != nil {
					t.Fatal(err)
				}
			}
			// The client spreads lines over workers: compare in a fixed order.
			key := func(d Datagram) string { return d.Name + d.Title }
			slices.SortFunc(got, func(a, b Datagram) int { return strings.Compare(key(a), key(b)) })
			slices.SortFunc(want, func(a, b Datagram) int { return strings.Compare(key(a), key(b)) })
			if !reflect.DeepEqual(got, want) {
				t.Errorf("parsed datadog-go output:\n got %+v\nwant %+v\nlines %q", got, want, lines)
			}
		})
	}
}

func TestListenFunc(t *testing.T) {
	got := make(chan string, 2)
	before := time.Now()
	addr := ListenFunc(t, func(d []byte, at time.Time) {
		if at.Before(before) {
			t.Errorf("arrival %v before the send", at)
		}
		got <- string(d) // d is reused: copy it
	})
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, d := range []string{"a:1|c", "b:2|g"} {
		if _, err := conn.Write([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"a:1|c", "b:2|g"} {
		select {
		case d := <-got:
			if d != want {
				t.Errorf("datagram %q, want %q", d, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no datagram %q", want)
		}
	}
}
