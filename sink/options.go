package sink

import (
	"fmt"
	"strings"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
)

// DefaultNamespace prefixes every metric name unless WithNamespace says otherwise.
const DefaultNamespace = "lol."

// Option configures the DogStatsD and stdout sinks.
type Option func(*config)

type config struct {
	namespace  string
	tags       []string
	timestamps bool
	patience   time.Duration
	udpRate    int
	maxPayload int // bytes; events are cut to fit
	client     statsd.ClientInterface
	statsdOpts []statsd.Option
	set        telemetry.Settings
}

// WithNamespace sets the prefix of every metric name; a trailing "." is added
// if missing and "" means no prefix. Default: DefaultNamespace ("lol.").
func WithNamespace(ns string) Option {
	return func(c *config) {
		if ns != "" && !strings.HasSuffix(ns, ".") {
			ns += "."
		}
		c.namespace = ns
	}
}

// WithTags adds global "key:value" tags to every point and event, before the
// point's own tags. Default: none.
func WithTags(tags []string) Option {
	return func(c *config) { c.tags = append([]string(nil), tags...) }
}

// WithTimestamps, when on, sends each point with its Point.Time (DogStatsD
// "|T", Agent ≥ 7.40), bypassing aggregation in the client and the Agent;
// points with a zero time are still stamped by the Agent. Off, the Agent
// stamps points on arrival. Events always carry their own time. Default: off.
func WithTimestamps(on bool) Option {
	return func(c *config) { c.timestamps = on }
}

// WithPatience sets how long the DogStatsD sink waits for an Agent that is
// slow, restarting or not there yet, counted from the first failed write of
// an outage; past it, payloads are dropped, reported by Flush, until the
// Agent takes one again. Default: DefaultPatience.
func WithPatience(d time.Duration) Option {
	return func(c *config) { c.patience = d }
}

// WithUDPRate paces UDP to at most n datagrams per second, so that an Agent
// reading with a default receive buffer keeps up with a burst of timestamped
// points; 0 sends unpaced. Unix sockets need no pace: the kernel makes the
// writer wait for the Agent. Default: DefaultUDPDatagramsPerSecond.
func WithUDPRate(n int) Option {
	return func(c *config) { c.udpRate = n }
}

// WithClient makes the DogStatsD sink send through client instead of dialling
// its address. The client is used as configured: its own namespace, global
// tags and error handler apply, WithNamespace, WithTags and WithStatsdOptions
// are ignored, and neither Flush nor Stats sees what the client drops.
// The sink owns the client and closes it on Close. Default: a client built
// from the address.
func WithClient(client statsd.ClientInterface) Option {
	return func(c *config) { c.client = client }
}

// WithStatsdOptions passes options to the datadog-go client the DogStatsD
// sink builds, e.g. statsd.WithoutTelemetry(). The sink's own namespace, tags
// and error handler are applied after them. Default: none.
func WithStatsdOptions(opts ...statsd.Option) Option {
	return func(c *config) { c.statsdOpts = append(c.statsdOpts, opts...) }
}

// newConfig applies opts over the defaults and rejects a namespace or global
// tag that would corrupt datagrams: those come from configuration, so they
// deserve an error rather than silent rewriting. The sinks log the first
// delivery failure and the first invalid item of a run to set's logger, and
// report every payload and rejected item to its observer.
func newConfig(set telemetry.Settings, opts []Option) (config, error) {
	// UDP's payload size, the smallest: stdout prints what UDP would carry.
	c := config{namespace: DefaultNamespace, patience: DefaultPatience, udpRate: DefaultUDPDatagramsPerSecond,
		maxPayload: statsd.OptimalUDPPayloadSize, set: set.Defaults()}
	for _, o := range opts {
		o(&c)
	}
	if err := CheckNamespace(c.namespace); err != nil {
		return config{}, fmt.Errorf("namespace %w", err)
	}
	if c.patience <= 0 {
		return config{}, fmt.Errorf("patience %v: must be positive", c.patience)
	}
	if c.udpRate < 0 {
		return config{}, fmt.Errorf("udp rate %d: must be 0 (unpaced) or positive", c.udpRate)
	}
	for _, t := range c.tags {
		if t == "" || sanitizeTag(t) != t {
			return config{}, fmt.Errorf("global tag %q: must be non-empty, without spaces, control characters, | or ,", t)
		}
	}
	return c, nil
}

// CheckNamespace reports what is wrong with a metric namespace, or nil: it
// must start with a letter and hold only ASCII letters, digits, _ and ., or
// be empty.
func CheckNamespace(ns string) error {
	if ns != "" && (!isLetter(ns[0]) || sanitizeName(ns) != ns) {
		return fmt.Errorf("%q must start with a letter and hold only ASCII letters, digits, _ and .", ns)
	}
	return nil
}
