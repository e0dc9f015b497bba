// Package config defines riftbridge's configuration, its defaults, loading from file, environment and flags, and validation.
package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"

	"github.com/riftbridge/riftbridge/mapper"
)

// Sink kinds.
const (
	SinkDogStatsD = "dogstatsd"
	SinkStdout    = "stdout"
)

// Config is the whole configuration file. Keys are snake_case; every key can
// also be set through RIFTBRIDGE_<SECTION>_<KEY> and most through a flag.
type Config struct {
	// Sink is where points go: "dogstatsd" (a Datadog Agent) or "stdout"
	// (one DogStatsD line per point, for dry runs and pipes).
	Sink    string  `mapstructure:"sink"`
	Log     Log     `mapstructure:"log"`
	Statsd  Statsd  `mapstructure:"statsd"`
	Metrics Metrics `mapstructure:"metrics"`
	Replay  Replay  `mapstructure:"replay"`
}

// Log configures the process log on stderr.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `mapstructure:"level"`
	// Format is text or json.
	Format string `mapstructure:"format"`
}

// Statsd configures the DogStatsD sink.
type Statsd struct {
	// Address of the Agent's DogStatsD listener: "host:port" or
	// "udp://host:port" for UDP, "unix:///path/dsd.socket" for the Unix
	// socket. Empty lets datadog-go read DD_DOGSTATSD_URL or DD_AGENT_HOST.
	Address string `mapstructure:"address"`
}

// Metrics shapes every point, whatever the sink.
type Metrics struct {
	// Namespace prefixes every metric name; "lol." by default.
	Namespace string `mapstructure:"namespace"`
	// Tags are added to every point and event, e.g. ["env:prod"].
	Tags []string `mapstructure:"tags"`
	// DropTags lists tag keys never sent, e.g. ["match_id"]: each distinct
	// tag combination is a billed custom metric in Datadog.
	DropTags []string `mapstructure:"drop_tags"`
}

// Replay configures `riftbridge replay`.
type Replay struct {
	// Timeline lists the match-v5 timeline file, or one-frame fragments
	// (a bare participantFrames object, a bare events array) to combine.
	Timeline []string `mapstructure:"timeline"`
	// Match is the optional match-v5 match file of the same game, for
	// champion, position, queue and patch tags.
	Match string `mapstructure:"match"`
	// Speed replays at N× real time; 0 sends as fast as possible.
	Speed float64 `mapstructure:"speed"`
	// Backfill stamps each point with its true historical time.
	Backfill bool `mapstructure:"backfill"`
	// Plot writes a PNG of the team gold curves and gold diff.
	Plot string `mapstructure:"plot"`
}

// Prefix returns the namespace with its trailing dot, as sinks prepend it.
func (m Metrics) Prefix() string {
	if m.Namespace == "" || strings.HasSuffix(m.Namespace, ".") {
		return m.Namespace
	}
	return m.Namespace + "."
}

// NewDefault returns the configuration used when nothing is set.
func NewDefault() *Config {
	return &Config{
		Sink:    SinkDogStatsD,
		Log:     Log{Level: "info", Format: "text"},
		Statsd:  Statsd{Address: "127.0.0.1:8125"},
		Metrics: Metrics{Namespace: "lol."},
	}
}

// Validate reports every problem at once, each as `"key": reason`.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%q: %s", key, fmt.Sprintf(format, args...)))
	}
	if !slices.Contains([]string{SinkDogStatsD, SinkStdout}, c.Sink) {
		bad("sink", "must be %q or %q, not %q", SinkDogStatsD, SinkStdout, c.Sink)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	if !slices.Contains([]string{"text", "json"}, c.Log.Format) {
		bad("log.format", "must be text or json, not %q", c.Log.Format)
	}
	if err := checkStatsdAddress(c.Statsd.Address); err != nil {
		bad("statsd.address", "%v", err)
	}
	if err := checkNamespace(c.Metrics.Namespace); err != nil {
		bad("metrics.namespace", "%v", err)
	}
	for _, tag := range c.Metrics.Tags {
		if k, v, ok := strings.Cut(tag, ":"); !ok || k == "" || v == "" || mapper.TagValue(v) != v || strings.ContainsAny(k, "|,# ") {
			bad("metrics.tags", "%q is not a lowercase key:value tag", tag)
		}
	}
	known := tagKeys()
	for _, k := range c.Metrics.DropTags {
		switch {
		case slices.Contains(seriesKeys, k):
			bad("metrics.drop_tags", "%q tells series of one match apart and cannot be dropped", k)
		case !slices.Contains(known, k):
			bad("metrics.drop_tags", "%q is not a tag riftbridge sets (one of %s)", k, strings.Join(known, ", "))
		}
	}
	if c.Replay.Speed < 0 {
		bad("replay.speed", "must be 0 (as fast as possible) or a positive multiple of real time, not %v", c.Replay.Speed)
	}
	if c.Replay.Plot != "" && !strings.EqualFold(filepath.Ext(c.Replay.Plot), ".png") {
		bad("replay.plot", "must name a .png file, not %q", c.Replay.Plot)
	}
	return errors.Join(errs...)
}

// seriesKeys tell apart the series of a single match (blue vs red gold, one
// participant vs another); dropping one would merge them into nonsense.
var seriesKeys = []string{mapper.TagTeam, mapper.TagParticipantID, mapper.TagEventType, mapper.TagDragonType, mapper.TagMoment}

// tagKeys lists every tag key the catalog uses.
func tagKeys() []string {
	var keys []string
	for _, s := range mapper.Catalog() {
		for _, k := range s.Tags {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	keys = append(keys, mapper.TagMoment)
	slices.Sort(keys)
	return keys
}

func checkStatsdAddress(addr string) error {
	switch {
	case addr == "":
		return nil
	case strings.HasPrefix(addr, "unix://"):
		if p := strings.TrimPrefix(addr, "unix://"); !filepath.IsAbs(p) {
			return fmt.Errorf("unix socket path must be absolute (unix:///var/run/datadog/dsd.socket), not %q", addr)
		}
		return nil
	case strings.HasPrefix(addr, "udp://"):
		addr = strings.TrimPrefix(addr, "udp://")
	case strings.Contains(addr, "://"):
		scheme, _, _ := strings.Cut(addr, "://")
		return fmt.Errorf("scheme %q is not supported; use host:port, udp://host:port or unix:///path", scheme)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("%q is not host:port", addr)
	}
	return nil
}

func checkNamespace(ns string) error {
	trimmed := strings.TrimSuffix(ns, ".")
	if trimmed == "" {
		return nil
	}
	for i, r := range trimmed {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if i == 0 && !letter {
			return fmt.Errorf("%q must start with a letter", ns)
		}
		if !letter && !(r >= '0' && r <= '9') && r != '_' && r != '.' {
			return fmt.Errorf("%q may hold only ASCII letters, digits, _ and .", ns)
		}
	}
	return nil
}
