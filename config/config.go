// Package config defines riftbridge's configuration, its defaults, loading from file, environment and flags, and validation.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/riftbridge/riftbridge/dashboards"
	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/sink"
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
	Riot    Riot    `mapstructure:"riot"`
	// Players are the players `riftbridge run` watches.
	Players []Player `mapstructure:"players"`
	Pollers Pollers  `mapstructure:"pollers"`
	Health  Health   `mapstructure:"health"`
	// Dashboards tunes the generated dashboards, monitors and downtimes.
	Dashboards dashboards.Config `mapstructure:"dashboards"`
	State      State             `mapstructure:"state"`
	Redis      Redis             `mapstructure:"redis"`
	// LiveClient follows the game this machine plays or spectates through
	// the game client's Live Client Data API.
	LiveClient LiveClient `mapstructure:"liveclient"`
}

// LiveClient configures the Live Client Data API source of `riftbridge run`.
type LiveClient struct {
	// Enabled follows every game the client at Address runs; with no
	// players, run needs no Riot key.
	Enabled bool `mapstructure:"enabled"`
	// Address is the game client's API: https://127.0.0.1:2999 on the PC
	// that plays or spectates, or that PC's address from another machine.
	Address string `mapstructure:"address"`
	// CAFile is a PEM file of the root the API's certificate must chain to;
	// empty trusts Riot's root, bundled with riftbridge. The certificate's
	// host name is not checked (the game's has none); its chain always is.
	CAFile string `mapstructure:"ca_file"`
	// Interval is the time between polls while a game runs.
	Interval time.Duration `mapstructure:"interval"`
}

// State backends.
const (
	StateBolt  = "bolt"
	StateRedis = "redis"
)

// State keeps what must survive a restart of `riftbridge run`: which
// matches were emitted and how far, resolved PUUIDs and live games.
type State struct {
	// Backend is "bolt" (one file, for one process) or "redis" (several
	// replicas sharing one Riot key: shared rate limits, match leases and
	// players split across replicas).
	Backend string `mapstructure:"backend"`
	// Path is the bolt state file.
	Path string `mapstructure:"path"`
	// Lookback is how far back each player's match list is read at start,
	// so games that ended while riftbridge was down are caught up; matches
	// already emitted are never emitted again.
	Lookback time.Duration `mapstructure:"lookback"`
}

// Redis is the shared state of replicas (state.backend: redis).
type Redis struct {
	// URL is redis://[:password@]host:port/db, rediss:// or unix://.
	// Never logged with its password.
	URL Secret `mapstructure:"url"`
	// Prefix namespaces riftbridge's keys, so deployments (or API keys) can
	// share one Redis.
	Prefix string `mapstructure:"prefix"`
}

// Riot configures access to the Riot API.
type Riot struct {
	// APIKey is the Riot API key; also read from RIOT_API_KEY. Never logged.
	APIKey Secret `mapstructure:"api_key"`
	// APIKeyFile is read for the key when APIKey is empty (a mounted secret).
	APIKeyFile string `mapstructure:"api_key_file"`
	// BaseURL is the host template, {route} being a platform or a regional
	// cluster; point it at a proxy or test server as
	// "http://127.0.0.1:9000/{route}".
	BaseURL string `mapstructure:"base_url"`
	// Timeout bounds one HTTP request.
	Timeout time.Duration `mapstructure:"timeout"`
	// MaxRetries caps retries of 429s, 5xx and network errors.
	MaxRetries int `mapstructure:"max_retries"`
	// AppRateLimit is the application limit assumed until Riot's headers
	// say otherwise, "count:seconds,…"; the development key's by default,
	// so a cold start never overshoots.
	AppRateLimit string `mapstructure:"app_rate_limit"`
}

// Player is one watched player.
type Player struct {
	// RiotID is "Name#TAG", as the client shows it.
	RiotID string `mapstructure:"riot_id"`
	// Platform is the player's server: kr, euw1, na1, …
	Platform string `mapstructure:"platform"`
}

// Pollers tunes the live pollers. An interval is "at most once per
// interval", like an Agent check's min_collection_interval, plus jitter.
type Pollers struct {
	Spectator SpectatorPoller `mapstructure:"spectator"`
	Matches   MatchPoller     `mapstructure:"matches"`
	// Jitter adds up to this fraction of an interval to each wait, so
	// players' polls spread out instead of firing together.
	Jitter float64 `mapstructure:"jitter"`
	// Timeout bounds one poll, retries and rate-limit waits included.
	Timeout time.Duration `mapstructure:"timeout"`
}

// SpectatorPoller watches for live games.
type SpectatorPoller struct {
	// Interval bounds how long a game start goes unnoticed.
	Interval time.Duration `mapstructure:"interval"`
}

// MatchPoller fetches finished matches.
type MatchPoller struct {
	// Interval is the safety sweep of each player's match list, for games
	// the spectator cannot see (some custom queues) or missed.
	Interval time.Duration `mapstructure:"interval"`
	// RetryInterval spaces attempts at a match Riot has not processed yet.
	RetryInterval time.Duration `mapstructure:"retry_interval"`
	// GiveUpAfter abandons a match still unprocessed after this long.
	GiveUpAfter time.Duration `mapstructure:"give_up_after"`
}

// Health configures the /healthz and /readyz endpoints of `riftbridge run`.
type Health struct {
	// Address to listen on, e.g. "127.0.0.1:8686"; empty disables them.
	Address string `mapstructure:"address"`
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
	// socket. Empty reads DD_DOGSTATSD_URL or DD_AGENT_HOST, as datadog-go
	// does. Empty or the default, the Agent's socket is preferred when it
	// exists (/var/run/datadog/dsd.socket, or DD_DOGSTATSD_SOCKET).
	Address string `mapstructure:"address"`
	// Patience is how long a write waits for an Agent that is slow,
	// restarting or not there yet; past it, what could not be written is
	// sent again later (run) or the replay fails.
	Patience time.Duration `mapstructure:"patience"`
	// UDPDatagramsPerSecond paces UDP, which has no backpressure, so an
	// Agent on the kernel's default receive buffer keeps up with a match's
	// burst; 0 sends unpaced.
	UDPDatagramsPerSecond int `mapstructure:"udp_datagrams_per_second"`
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
	// LiveClient is a game followed through the Live Client Data API, as
	// `riftbridge record` saved it, or a single allgamedata snapshot:
	// replayed instead of a timeline.
	LiveClient string `mapstructure:"liveclient"`
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
		Statsd:  Statsd{Address: sink.DefaultAddress, Patience: sink.DefaultPatience, UDPDatagramsPerSecond: sink.DefaultUDPDatagramsPerSecond},
		Metrics: Metrics{Namespace: "lol."},
		Riot: Riot{
			BaseURL:      riot.DefaultBaseURL,
			Timeout:      10 * time.Second,
			MaxRetries:   3,
			AppRateLimit: "20:1,100:120",
		},
		Players: []Player{},
		Pollers: Pollers{
			// 57 s plus up to 5 % jitter notices a game start within a minute
			// for about 62 requests per player-hour.
			Spectator: SpectatorPoller{Interval: 57 * time.Second},
			Matches:   MatchPoller{Interval: 30 * time.Minute, RetryInterval: time.Minute, GiveUpAfter: 2 * time.Hour},
			Jitter:    0.05,
			Timeout:   30 * time.Second,
		},
		Health:     Health{Address: "127.0.0.1:8686"},
		Dashboards: dashboards.DefaultConfig(),
		State:      State{Backend: StateBolt, Path: "riftbridge-state.db", Lookback: 2 * time.Hour},
		Redis:      Redis{Prefix: "riftbridge:"},
		LiveClient: LiveClient{Address: DefaultLiveClientAddress, Interval: time.Second},
	}
}

// DefaultLiveClientAddress is where the game client serves its Live Client
// Data API.
const DefaultLiveClientAddress = "https://127.0.0.1:2999"

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
	if err := sink.CheckAddress(c.Statsd.Address); err != nil {
		bad("statsd.address", "%v", err)
	}
	if c.Statsd.Patience < 100*time.Millisecond || c.Statsd.Patience > time.Hour {
		bad("statsd.patience", "must be between 100ms and 1h, not %v", c.Statsd.Patience)
	}
	if c.Statsd.UDPDatagramsPerSecond < 0 || c.Statsd.UDPDatagramsPerSecond > 1_000_000 {
		bad("statsd.udp_datagrams_per_second", "must be between 0 (unpaced) and 1000000, not %d", c.Statsd.UDPDatagramsPerSecond)
	}
	if err := sink.CheckNamespace(c.Metrics.Prefix()); err != nil {
		bad("metrics.namespace", "%v", err)
	}
	for _, tag := range c.Metrics.Tags {
		k, v, ok := strings.Cut(tag, ":")
		switch {
		case !ok || k == "" || v == "" || mapper.TagValue(v) != v || strings.ContainsAny(k, "|,# "):
			bad("metrics.tags", "%q is not a lowercase key:value tag", tag)
		case mapper.ReservedTagKey(k) != "":
			bad("metrics.tags", "%q: %s", tag, mapper.ReservedTagKey(k))
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
	if c.Replay.LiveClient != "" && len(c.Replay.Timeline) > 0 {
		bad("replay.liveclient", "replays a followed game instead of a timeline: give one of them, not both")
	}
	if c.Replay.LiveClient != "" && c.Replay.Plot != "" {
		bad("replay.plot", "needs a timeline: the Live Client Data API serves no team gold")
	}
	if c.Replay.Plot != "" && !strings.EqualFold(filepath.Ext(c.Replay.Plot), ".png") {
		bad("replay.plot", "must name a .png file, not %q", c.Replay.Plot)
	}
	if err := riot.CheckBaseURL(c.Riot.BaseURL); err != nil {
		bad("riot.base_url", "must be an http(s) url holding {route}, such as %s", riot.DefaultBaseURL)
	}
	if c.Riot.Timeout <= 0 {
		bad("riot.timeout", "must be positive, not %v", c.Riot.Timeout)
	}
	if c.Riot.MaxRetries < 1 || c.Riot.MaxRetries > 10 {
		bad("riot.max_retries", "must be between 1 and 10, not %d", c.Riot.MaxRetries)
	}
	if _, err := riot.ParseLimits(c.Riot.AppRateLimit); err != nil || c.Riot.AppRateLimit == "" {
		bad("riot.app_rate_limit", "must be count:seconds pairs such as 20:1,100:120, not %q", c.Riot.AppRateLimit)
	}
	c.LiveClient.validate(bad)
	seen := map[Player]int{} // by Riot ID and platform as Riot compares them: the index
	for i, p := range c.Players {
		key := fmt.Sprintf("players[%d]", i)
		name, tag, ok := strings.Cut(p.RiotID, "#")
		if !ok || strings.TrimSpace(name) == "" || tag == "" || strings.Contains(tag, "#") {
			bad(key+".riot_id", "%q is not a Riot ID of the form Name#TAG", p.RiotID)
		}
		if _, err := riot.NormalizePlatform(p.Platform); err != nil {
			bad(key+".platform", "%v", err)
		}
		// Riot IDs ignore case: "hide on BUSH#kr1" is Hide on bush#KR1.
		platform, _ := riot.NormalizePlatform(p.Platform)
		same := Player{RiotID: strings.ToLower(p.RiotID), Platform: platform}
		if j, ok := seen[same]; ok {
			bad(key, "%s on %s is listed twice (as players[%d] %s: Riot IDs ignore case)", p.RiotID, p.Platform, j, c.Players[j].RiotID)
		}
		seen[same] = i
	}
	for key, d := range map[string]time.Duration{
		"pollers.spectator.interval":     c.Pollers.Spectator.Interval,
		"pollers.matches.interval":       c.Pollers.Matches.Interval,
		"pollers.matches.retry_interval": c.Pollers.Matches.RetryInterval,
		"pollers.matches.give_up_after":  c.Pollers.Matches.GiveUpAfter,
		"pollers.timeout":                c.Pollers.Timeout,
	} {
		if d < time.Second {
			bad(key, "must be at least 1s, not %v", d)
		}
	}
	if c.Pollers.Jitter < 0 || c.Pollers.Jitter > 1 {
		bad("pollers.jitter", "must be a fraction between 0 and 1, not %v", c.Pollers.Jitter)
	}
	switch c.State.Backend {
	case StateBolt:
		if c.State.Path == "" {
			bad("state.path", "required with state.backend %q", StateBolt)
		}
	case StateRedis:
		// The URL may hold a password: say what is wrong with it, never show it.
		switch u, err := url.Parse(c.Redis.URL.Reveal()); {
		case c.Redis.URL == "":
			bad("redis.url", "required with state.backend %q: redis://host:6379/0, rediss://… or unix:///path", StateRedis)
		case err != nil:
			bad("redis.url", "is not a URL; want redis://host:6379/0, rediss://… or unix:///path")
		case !slices.Contains([]string{"redis", "rediss", "unix"}, u.Scheme):
			bad("redis.url", "scheme %q is not redis, rediss or unix: redis://host:6379/0, rediss://… or unix:///path", u.Scheme)
		}
		// A shared permit counts as in flight for 15 s: a longer request
		// would outlive it, and the replicas would undercount the budget.
		if c.Riot.Timeout >= 15*time.Second {
			bad("riot.timeout", "must be under 15s with state.backend %q, not %v", StateRedis, c.Riot.Timeout)
		}
	default:
		bad("state.backend", "must be %q or %q, not %q", StateBolt, StateRedis, c.State.Backend)
	}
	// Below the state's 30-day retention, with a day to spare: a match
	// pruned while still inside the lookback would be emitted again.
	if c.State.Lookback < 0 || c.State.Lookback > 29*24*time.Hour {
		bad("state.lookback", "must be between 0 and 696h, not %v", c.State.Lookback)
	}
	if err := c.Dashboards.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Health.Address != "" {
		if _, _, err := net.SplitHostPort(c.Health.Address); err != nil {
			bad("health.address", "%q is not host:port", c.Health.Address)
		}
	}
	return errors.Join(errs...)
}

// ValidateRun adds what `riftbridge run` needs on top of Validate: players
// and a key to watch them with, or the Live Client source alone.
func (c *Config) ValidateRun() error {
	var errs []error
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(c.Players) > 0 || !c.LiveClient.Enabled {
		if _, err := c.Riot.Key(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(c.Players) == 0 && !c.LiveClient.Enabled {
		errs = append(errs, errors.New(`"players": at least one player is required, or liveclient.enabled`))
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
