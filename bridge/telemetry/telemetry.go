// Package telemetry is the settings bundle every riftbridge component is
// handed: a clock, a logger and the observer of its self-telemetry.
package telemetry

import (
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"
)

// Settings is what a component needs to tell the time, log, and report on
// itself. The zero value works: Defaults fills it in.
type Settings struct {
	// Clock is the time source of waits, timeouts and timestamps; tests
	// hand a clockwork.FakeClock. Default: the real clock.
	Clock clockwork.Clock
	// Logger receives the component's log lines. Default: discard.
	Logger *slog.Logger
	// Observer receives the component's self-telemetry. Default: Nop.
	Observer Observer
}

// Defaults returns s with every unset field at its default.
func (s Settings) Defaults() Settings {
	if s.Clock == nil {
		s.Clock = clockwork.NewRealClock()
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Observer == nil {
		s.Observer = Nop{}
	}
	return s
}

// With returns s with its logger carrying attrs.
func (s Settings) With(attrs ...any) Settings {
	s = s.Defaults()
	s.Logger = s.Logger.With(attrs...)
	return s
}

// Observer receives the self-telemetry of every component, the way an
// Agent integration reports on itself. A component calls the methods of
// its own part. Implementations are safe for concurrent use and fast: they
// run on the request and delivery paths.
type Observer interface {
	// Request reports one exchange with Riot; status is 0 for a transport
	// error.
	Request(endpoint, route string, status int, latency time.Duration)
	// Throttled reports a 429 on route by X-Rate-Limit-Type ("" when
	// untyped), and the wait it imposes (0 without Retry-After).
	Throttled(endpoint, route, limitType string, wait time.Duration)
	// Waited reports time a request spent waiting for rate-limit budget.
	Waited(endpoint string, d time.Duration)
	// Retried reports a retry after a 429, a 5xx or a transport error.
	Retried(endpoint string)

	// Polled reports one finished poll of a poller.
	Polled(poller string, d time.Duration, err error)
	// Skipped reports a tick that came while the poller's previous poll
	// still ran.
	Skipped(poller string)

	// Written reports one payload written to the Agent over transport,
	// holding points metric lines; retried when it took more than a try.
	Written(transport string, points int, retried bool)
	// Dropped reports one payload the Agent did not get.
	Dropped(transport string, points int)
	// Rejected reports an item a sink refused as invalid.
	Rejected(sink string)
}

// Nop is an Observer that drops everything; embed it to observe a part.
type Nop struct{}

var _ Observer = Nop{}

func (Nop) Request(string, string, int, time.Duration)      {}
func (Nop) Throttled(string, string, string, time.Duration) {}
func (Nop) Waited(string, time.Duration)                    {}
func (Nop) Retried(string)                                  {}
func (Nop) Polled(string, time.Duration, error)             {}
func (Nop) Skipped(string)                                  {}
func (Nop) Written(string, int, bool)                       {}
func (Nop) Dropped(string, int)                             {}
func (Nop) Rejected(string)                                 {}
