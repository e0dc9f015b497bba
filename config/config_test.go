package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/riftbridge/riftbridge/dashboards"
)

// loadAndValidate mirrors what the CLI does with a config file.
func loadAndValidate(path string) error {
	cfg, err := Load(path, nil, nil)
	if err != nil {
		return err
	}
	return cfg.Validate()
}

func TestInvalidConfigs(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"invalid-sink.yaml", `"sink": must be "dogstatsd" or "stdout", not "kafka"`},
		{"invalid-log-level.yaml", `"log.level": must be debug, info, warn or error, not "verbose"`},
		{"invalid-log-format.yaml", `"log.format": must be text or json, not "xml"`},
		{"invalid-statsd-address.yaml", `"statsd.address": "localhost" is not host:port`},
		{"invalid-statsd-scheme.yaml", `"statsd.address": scheme "tcp" is not supported; use host:port, udp://host:port or unix:///path`},
		{"invalid-statsd-unix-path.yaml", `"statsd.address": unix socket path must be absolute (unix:///var/run/datadog/dsd.socket), not "unix://run/dsd.socket"`},
		{"invalid-statsd-port.yaml", `"statsd.address": "127.0.0.1:99999": the port must be a number from 1 to 65535`},
		{"invalid-statsd-patience.yaml", `"statsd.patience": must be between 100ms and 1h, not 50ms`},
		{"invalid-statsd-udp-rate.yaml", `"statsd.udp_datagrams_per_second": must be between 0 (unpaced) and 1000000, not -5`},
		{"invalid-metrics-namespace.yaml", `"metrics.namespace": "9lol." must start with a letter`},
		{"invalid-metrics-tags.yaml", `"metrics.tags": "Env:Prod" is not a lowercase key:value tag`},
		{"invalid-metrics-tags-host.yaml", `"metrics.tags": "host:gaming-pc": the Agent takes a host tag as the hostname of the point: set the hostname in the Agent instead`},
		{"invalid-drop-tags-unknown.yaml", `"metrics.drop_tags": "summoner" is not a tag riftbridge sets`},
		{"invalid-drop-tags-series.yaml", `"metrics.drop_tags": "team" tells series of one match apart and cannot be dropped`},
		{"invalid-replay-speed.yaml", `"replay.speed": must be 0 (as fast as possible) or a positive multiple of real time, not -2`},
		{"invalid-replay-plot.yaml", `"replay.plot": must name a .png file, not "gold.jpg"`},
		{"invalid-unknown-key.yaml", `config testdata/invalid-unknown-key.yaml: unknown key "statsd.adress"`},
		{"invalid-type.yaml", `config testdata/invalid-type.yaml: 'replay.speed' cannot parse value as 'float64'`},
		{"invalid-riot-base-url.yaml", `"riot.base_url": must be an http(s) url holding {route}, such as https://{route}.api.riotgames.com`},
		{"invalid-riot-timeout.yaml", `"riot.timeout": must be positive, not 0s`},
		{"invalid-riot-max-retries.yaml", `"riot.max_retries": must be between 1 and 10, not 50`},
		{"invalid-riot-app-rate-limit.yaml", `"riot.app_rate_limit": must be count:seconds pairs such as 20:1,100:120, not "20 per second"`},
		{"invalid-player-riot-id.yaml", `"players[0].riot_id": "Faker" is not a Riot ID of the form Name#TAG`},
		{"invalid-player-platform.yaml", `"players[0].platform": unknown platform "korea" (one of br1, eun1, euw1,`},
		{"invalid-player-duplicate.yaml", `"players[1]": Faker#KR1 on kr is listed twice`},
		{"invalid-player-unknown-key.yaml", `config testdata/invalid-player-unknown-key.yaml: 'players[0]' has invalid keys: region`},
		{"invalid-pollers-spectator-interval.yaml", `"pollers.spectator.interval": must be at least 1s, not 100ms`},
		{"invalid-pollers-matches-interval.yaml", `config testdata/invalid-pollers-matches-interval.yaml: 'pollers.matches.interval' time: invalid duration`},
		{"invalid-pollers-jitter.yaml", `"pollers.jitter": must be a fraction between 0 and 1, not 2`},
		{"invalid-health-address.yaml", `"health.address": "8686" is not host:port`},
		{"invalid-dashboards-thresholds.yaml", `"dashboards.gold_diff_critical": must be above gold_diff_warning (9000), not 8000`},
		{"invalid-dashboards-timezone.yaml", `"dashboards.downtimes.timezone": "Mars/Olympus" is not an IANA time zone like Europe/Paris`},
		{"invalid-state-backend.yaml", `"state.backend": must be "bolt" or "redis", not "etcd"`},
		{"invalid-state-path.yaml", `"state.path": required with state.backend "bolt"`},
		{"invalid-state-lookback.yaml", `"state.lookback": must be between 0 and 696h, not -1h0m0s`},
		{"invalid-redis-url.yaml", `"redis.url": required with state.backend "redis"`},
		{"invalid-player-duplicate-case.yaml", `"players[1]": hide on BUSH#kr1 on KR is listed twice (as players[0] Hide on bush#KR1: Riot IDs ignore case)`},
		{"invalid-redis-url-scheme.yaml", `"redis.url": scheme "http" is not redis, rediss or unix`},
		{"invalid-riot-timeout-redis.yaml", `"riot.timeout": must be under 15s with state.backend "redis", not 20s`},
		{"invalid-liveclient-address.yaml", `"liveclient.address": must be an https origin such as https://127.0.0.1:2999, not "http://127.0.0.1:2999"`},
		{"invalid-liveclient-address-port.yaml", `"liveclient.address": must name a port, such as https://127.0.0.1:2999, not "https://127.0.0.1"`},
		{"invalid-liveclient-ca-file.yaml", `"liveclient.ca_file": open testdata/no-such-ca.pem: no such file or directory`},
		{"invalid-liveclient-ca-pem.yaml", `"liveclient.ca_file": testdata/valid-full.yaml: no PEM certificate in it`},
		{"invalid-liveclient-interval.yaml", `"liveclient.interval": must be between 100ms and 1m, not 10ms`},
		{"invalid-replay-liveclient.yaml", `"replay.liveclient": replays a followed game instead of a timeline: give one of them, not both`},
		{"invalid-replay-plot-liveclient.yaml", `"replay.plot": needs a timeline: the Live Client Data API serves no team gold`},
		{"invalid-yaml.yaml", `config testdata/invalid-yaml.yaml: While parsing config: yaml: line 2: mapping values are not allowed in this context`},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			err := loadAndValidate(filepath.Join("testdata", tt.file))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows a password: %q", err)
			}
		})
	}
	// Every fixture must be covered: one rule, one file, one expected error.
	files, _ := filepath.Glob("testdata/invalid-*.yaml")
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no expected error in this table", f)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := NewDefault()
	cfg.Sink = "kafka"
	cfg.Replay.Speed = -1
	cfg.Metrics.DropTags = []string{"team"}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, key := range []string{`"sink"`, `"replay.speed"`, `"metrics.drop_tags"`} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error %q does not name %s", err, key)
		}
	}
}

func TestDefaultIsValid(t *testing.T) {
	if err := NewDefault().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadFullFile(t *testing.T) {
	cfg, err := Load("testdata/valid-full.yaml", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Sink:    SinkStdout,
		Log:     Log{Level: "debug", Format: "json"},
		Statsd:  Statsd{Address: "unix:///var/run/datadog/dsd.socket", Patience: 10 * time.Second, UDPDatagramsPerSecond: 500},
		Metrics: Metrics{Namespace: "lol", Tags: []string{"env:test"}, DropTags: []string{"match_id", "patch"}},
		Replay: Replay{
			Timeline: []string{"samples/KR_7014499581.timeline.json"},
			Match:    "samples/KR_7014499581.match.json",
			Speed:    60, Backfill: true, Plot: "gold.png",
		},
		Riot: Riot{
			APIKey: "RGAPI-test-key", BaseURL: "http://127.0.0.1:9000/{route}",
			Timeout: 5 * time.Second, MaxRetries: 2, AppRateLimit: "500:10,30000:600",
		},
		Players: []Player{{RiotID: "Hide on bush#KR1", Platform: "kr"}, {RiotID: "젠지 한별#GEN", Platform: "KR"}},
		Pollers: Pollers{
			Spectator: SpectatorPoller{Interval: 30 * time.Second},
			Matches:   MatchPoller{Interval: 10 * time.Minute, RetryInterval: 30 * time.Second, GiveUpAfter: time.Hour},
			Jitter:    0.1, Timeout: 20 * time.Second,
		},
		Health: Health{Address: "0.0.0.0:8686"},
		State:  State{Backend: StateRedis, Path: "riftbridge-state.db", Lookback: 6 * time.Hour},
		Redis:  Redis{URL: "redis://:pw@127.0.0.1:6379/0", Prefix: "rb:"},
		LiveClient: LiveClient{
			Enabled: true, Address: "https://192.168.1.20:2999",
			CAFile: "testdata/liveclient-ca.pem", Interval: 500 * time.Millisecond,
		},
		Dashboards: dashboards.Config{
			Notify: "@slack-lol-alerts", Scope: "env:test",
			GoldDiffWarning: 4000, GoldDiffCritical: 9000, RateLimitedThreshold: 5,
			Downtimes: dashboards.Downtimes{Timezone: "Europe/Paris", Weeknights: true, WeeknightStart: "20:00", WeeknightEnd: "08:00"},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
	if got := cfg.Metrics.Prefix(); got != "lol." {
		t.Errorf("Prefix() = %q, want lol.", got)
	}
}

func TestPrecedence(t *testing.T) {
	// file < env < flags
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(path, []byte("replay:\n  speed: 2\n  match: from-file.json\nsink: stdout\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RIFTBRIDGE_REPLAY_SPEED", "4")
	t.Setenv("RIFTBRIDGE_STATSD_ADDRESS", "10.0.0.1:8125")
	flags := pflag.NewFlagSet("t", pflag.ContinueOnError)
	flags.Float64("speed", 0, "")
	flags.String("statsd-addr", "", "")
	if err := flags.Parse([]string{"--speed", "8"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, flags, map[string]string{"speed": "replay.speed", "statsd-addr": "statsd.address"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Replay.Speed != 8 {
		t.Errorf("speed = %v, want the flag's 8", cfg.Replay.Speed)
	}
	if cfg.Statsd.Address != "10.0.0.1:8125" {
		t.Errorf("statsd.address = %q, want the env's (flag not set)", cfg.Statsd.Address)
	}
	if cfg.Replay.Match != "from-file.json" || cfg.Sink != SinkStdout {
		t.Errorf("file values lost: %+v", cfg)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "config testdata/does-not-exist.yaml: no such file or directory") {
		t.Fatalf("error = %v", err)
	}
}

// TestShippedConfigsAreValid keeps the examples in samples/ and deploy/
// loadable.
func TestShippedConfigsAreValid(t *testing.T) {
	for _, path := range []string{"../samples/riftbridge.yaml", "../deploy/riftbridge.yaml"} {
		if err := loadAndValidate(path); err != nil {
			t.Error(err)
		}
	}
}

func TestValidateRun(t *testing.T) {
	cfg := NewDefault()
	err := cfg.ValidateRun()
	for _, want := range []string{`"riot.api_key": required`, `"players": at least one player is required`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateRun() = %v, want it to say %s", err, want)
		}
	}
	cfg.Riot.APIKey = "RGAPI-x"
	cfg.Players = []Player{{RiotID: "Hide on bush#KR1", Platform: "kr"}}
	if err := cfg.ValidateRun(); err != nil {
		t.Errorf("complete config: %v", err)
	}

	// The Live Client source alone needs no key and no player; with
	// players beside it, the key is required again.
	live := NewDefault()
	live.LiveClient.Enabled = true
	if err := live.ValidateRun(); err != nil {
		t.Errorf("liveclient alone: %v", err)
	}
	live.Players = []Player{{RiotID: "Hide on bush#KR1", Platform: "kr"}}
	if err := live.ValidateRun(); err == nil || !strings.Contains(err.Error(), `"riot.api_key": required`) {
		t.Errorf("liveclient and players without a key: %v, want the key required", err)
	}
}

func TestLiveClientRoots(t *testing.T) {
	if certs, err := NewDefault().LiveClient.Roots(); certs != nil || err != nil {
		t.Errorf("default Roots() = %v, %v; want none (the bundled root)", certs, err)
	}
	certs, err := LiveClient{CAFile: "testdata/liveclient-ca.pem"}.Roots()
	if err != nil || len(certs) != 1 || certs[0].Subject.CommonName != "LoL Game Engineering Certificate Authority" {
		t.Errorf("Roots() = %v, %v; want Riot's root", certs, err)
	}
}

func TestAPIKeySources(t *testing.T) {
	t.Setenv("RIOT_API_KEY", "RGAPI-from-env")
	cfg, err := Load("", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := cfg.Riot.Key(); got.Reveal() != "RGAPI-from-env" {
		t.Errorf("key from RIOT_API_KEY = %q", got.Reveal())
	}

	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte("RGAPI-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Riot{APIKeyFile: path}.Key()
	if err != nil || got.Reveal() != "RGAPI-from-file" {
		t.Errorf("key from file = %q, %v", got.Reveal(), err)
	}
	if _, err := (Riot{APIKeyFile: filepath.Join(t.TempDir(), "missing")}).Key(); err == nil || !strings.Contains(err.Error(), `"riot.api_key_file"`) {
		t.Errorf("missing key file: %v", err)
	}
}

// TestAPIKeyRefusedAtStart: a key an HTTP header cannot carry, such as two
// keys pasted together, is refused by ValidateRun, naming where it came
// from and never showing it.
func TestAPIKeyRefusedAtStart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte("RGAPI-first-secret\nRGAPI-second-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		riot Riot
		want string
	}{
		{Riot{APIKey: "RGAPI-first-secret\nRGAPI-second-secret"}, `"riot.api_key": the key holds a line break`},
		{Riot{APIKey: "RGAPI-first secret"}, `"riot.api_key": the key holds a line break, a space`},
		{Riot{APIKeyFile: file}, `"riot.api_key_file": the key holds a line break`},
	} {
		cfg := NewDefault()
		cfg.Riot.APIKey, cfg.Riot.APIKeyFile = tt.riot.APIKey, tt.riot.APIKeyFile
		cfg.Players = []Player{{RiotID: "Hide on bush#KR1", Platform: "kr"}}
		err := cfg.ValidateRun()
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("ValidateRun() = %v, want %s and no key", err, tt.want)
		}
	}
	// Surrounding whitespace, a trailing newline above all, is trimmed.
	if key, err := (Riot{APIKey: " RGAPI-ok\n"}).Key(); err != nil || key.Reveal() != "RGAPI-ok" {
		t.Errorf("Key() = %q, %v; want RGAPI-ok", key.Reveal(), err)
	}
}

// TestLoadBlamesWhereTheValueCameFrom: a bad value from the environment or
// a flag is blamed on it, not on the config file.
func TestLoadBlamesWhereTheValueCameFrom(t *testing.T) {
	path := filepath.Join(t.TempDir(), "riftbridge.yaml")
	if err := os.WriteFile(path, []byte("riot:\n  timeout: 5s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RIFTBRIDGE_RIOT_TIMEOUT", "abc")
	_, err := Load(path, nil, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "environment RIFTBRIDGE_RIOT_TIMEOUT: ") || strings.Contains(err.Error(), path) {
		t.Errorf("Load() = %v, want it blamed on RIFTBRIDGE_RIOT_TIMEOUT", err)
	}
	t.Setenv("RIFTBRIDGE_RIOT_TIMEOUT", "")
	if err := os.WriteFile(path, []byte("riot:\n  timeout: abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, nil, nil); err == nil || !strings.HasPrefix(err.Error(), "config "+path+": ") {
		t.Errorf("Load() = %v, want it blamed on the file", err)
	}
}

// TestSecretNeverPrints: the key must not leak through any formatting path.
func TestSecretNeverPrints(t *testing.T) {
	cfg := NewDefault()
	cfg.Riot.APIKey = "RGAPI-very-secret"
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "riot", cfg.Riot, "key", cfg.Riot.APIKey)
	jsonOut, _ := json.Marshal(cfg)
	for _, out := range []string{
		fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s", cfg.Riot.APIKey),
		string(jsonOut), logged.String(),
	} {
		if strings.Contains(out, "very-secret") {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if cfg.Riot.APIKey.Reveal() != "RGAPI-very-secret" {
		t.Error("Reveal lost the key")
	}
}
