package dashboards

import (
	"strings"
	"testing"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	if err := customConfig().Validate(); err != nil {
		t.Fatalf("customConfig().Validate() = %v", err)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		want   []string
	}{
		{"handle without @", func(c *Config) { c.Notify = "slack-lol-alerts" }, []string{`"dashboards.notify": "slack-lol-alerts" is not a notification handle`}},
		{"handle with space", func(c *Config) { c.Notify = "@slack lol" }, []string{`"dashboards.notify"`}},
		{"scope with braces", func(c *Config) { c.Scope = "env:prod,{x}" }, []string{`"dashboards.scope": "{x}" is not a tag`}},
		{"warning not positive", func(c *Config) { c.GoldDiffWarning = 0 }, []string{`"dashboards.gold_diff_warning": must be a positive amount of gold, not 0`}},
		{"critical below warning", func(c *Config) { c.GoldDiffCritical = 4000 }, []string{`"dashboards.gold_diff_critical": must be above gold_diff_warning (5000), not 4000`}},
		{"critical equals warning", func(c *Config) { c.GoldDiffCritical = 5000 }, []string{`"dashboards.gold_diff_critical"`}},
		{"429 threshold", func(c *Config) { c.RateLimitedThreshold = -1 }, []string{`"dashboards.rate_limited_threshold": must be a positive number of 429 answers, not -1`}},
		{"unknown zone", func(c *Config) { c.Downtimes.Timezone = "Mars/Olympus" }, []string{`"dashboards.downtimes.timezone": "Mars/Olympus" is not an IANA time zone`}},
		{"empty zone", func(c *Config) { c.Downtimes.Timezone = "" }, []string{`"dashboards.downtimes.timezone": "" is not an IANA time zone`}},
		{"local zone", func(c *Config) { c.Downtimes.Timezone = "Local" }, []string{`"dashboards.downtimes.timezone": "Local"`}},
		{"bad start", func(c *Config) { c.Downtimes.WeeknightStart = "7pm" }, []string{`"dashboards.downtimes.weeknight_start": "7pm" is not a time of day like 19:00`}},
		{"bad end", func(c *Config) { c.Downtimes.WeeknightEnd = "25:00" }, []string{`"dashboards.downtimes.weeknight_end": "25:00" is not a time of day like 09:00`}},
		{"empty window", func(c *Config) { c.Downtimes.WeeknightEnd = "19:00" }, []string{`"dashboards.downtimes.weeknight_end": must differ from weeknight_start (19:00)`}},
		{"every problem at once", func(c *Config) {
			c.Notify, c.GoldDiffWarning, c.Downtimes.Timezone = "x", -5, "Nowhere"
		}, []string{`"dashboards.notify"`, `"dashboards.gold_diff_warning"`, `"dashboards.downtimes.timezone"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.change(&cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("Validate() reported %d problems, want %d: %v", len(lines), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v\nwant it to contain %s", err, w)
				}
			}
		})
	}
}
