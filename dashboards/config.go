package dashboards

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Config shapes the generated monitors and downtimes. It sits under the
// `dashboards:` key of the riftbridge config file.
type Config struct {
	// Notify is the handle every monitor notifies, e.g. "@slack-lol-alerts";
	// empty notifies nobody (the monitors still show in Datadog).
	Notify string `mapstructure:"notify"`
	// Scope narrows every dashboard query, monitor and downtime to these
	// comma-separated tags, e.g. "env:prod"; empty means everywhere.
	Scope string `mapstructure:"scope"`
	// GoldDiffWarning is the gold lead of either team, averaged over 5
	// minutes, at which the gold-difference monitor warns.
	GoldDiffWarning float64 `mapstructure:"gold_diff_warning"`
	// GoldDiffCritical is the gold lead at which it alerts; above the warning.
	GoldDiffCritical float64 `mapstructure:"gold_diff_critical"`
	// RateLimitedThreshold is how many Riot 429 answers within 5 minutes alert.
	RateLimitedThreshold float64 `mapstructure:"rate_limited_threshold"`
	// Downtimes silence riftbridge's monitors outside playing hours.
	Downtimes Downtimes `mapstructure:"downtimes"`
}

// Downtimes configures the recurring downtimes.
type Downtimes struct {
	// Timezone is the IANA zone the windows are read in, e.g. "Europe/Paris".
	Timezone string `mapstructure:"timezone"`
	// Weeknights silences from WeeknightStart to WeeknightEnd, each night
	// starting Monday to Friday.
	Weeknights bool `mapstructure:"weeknights"`
	// Weekends silences from Saturday 00:00 to Monday at WeeknightEnd.
	Weekends bool `mapstructure:"weekends"`
	// WeeknightStart is when a night's downtime begins, "HH:MM".
	WeeknightStart string `mapstructure:"weeknight_start"`
	// WeeknightEnd is when it ends the next morning (or the same day if
	// later than the start), "HH:MM".
	WeeknightEnd string `mapstructure:"weeknight_end"`
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		GoldDiffWarning:      5000,
		GoldDiffCritical:     8000,
		RateLimitedThreshold: 10,
		Downtimes: Downtimes{
			Timezone:       "UTC",
			Weeknights:     true,
			Weekends:       true,
			WeeknightStart: "19:00",
			WeeknightEnd:   "09:00",
		},
	}
}

var (
	handleRe   = regexp.MustCompile(`^@[^\s@][^\s]*$`)
	scopeTagRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_\-./]*(:[A-Za-z0-9_\-./:]+)?$`)
)

// clockLayout is the layout of WeeknightStart and WeeknightEnd.
const clockLayout = "15:04"

// Validate reports every problem at once, each as `"dashboards.<key>": reason`.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%q: %s", "dashboards."+key, fmt.Sprintf(format, args...)))
	}
	if c.Notify != "" && !handleRe.MatchString(c.Notify) {
		bad("notify", "%q is not a notification handle like @slack-lol-alerts", c.Notify)
	}
	for _, tag := range c.scopeTags() {
		if !scopeTagRe.MatchString(tag) {
			bad("scope", "%q is not a tag like env:prod (comma-separate several)", tag)
		}
	}
	if c.GoldDiffWarning <= 0 {
		bad("gold_diff_warning", "must be a positive amount of gold, not %v", c.GoldDiffWarning)
	}
	if c.GoldDiffCritical <= c.GoldDiffWarning {
		bad("gold_diff_critical", "must be above gold_diff_warning (%v), not %v", c.GoldDiffWarning, c.GoldDiffCritical)
	}
	if c.RateLimitedThreshold <= 0 {
		bad("rate_limited_threshold", "must be a positive number of 429 answers, not %v", c.RateLimitedThreshold)
	}
	d := c.Downtimes
	if _, err := d.location(); err != nil {
		bad("downtimes.timezone", "%v", err)
	}
	start, errStart := time.Parse(clockLayout, d.WeeknightStart)
	if errStart != nil {
		bad("downtimes.weeknight_start", "%q is not a time of day like 19:00", d.WeeknightStart)
	}
	end, errEnd := time.Parse(clockLayout, d.WeeknightEnd)
	if errEnd != nil {
		bad("downtimes.weeknight_end", "%q is not a time of day like 09:00", d.WeeknightEnd)
	}
	if errStart == nil && errEnd == nil && start.Equal(end) {
		bad("downtimes.weeknight_end", "must differ from weeknight_start (%s)", d.WeeknightStart)
	}
	return errors.Join(errs...)
}

// scopeTags splits Scope into its tags.
func (c Config) scopeTags() []string {
	var tags []string
	for t := range strings.SplitSeq(c.Scope, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

func (d Downtimes) location() (*time.Location, error) {
	// LoadLocation takes "" and "Local" too, which mean different zones on
	// different machines.
	if d.Timezone == "" || d.Timezone == "Local" {
		return nil, fmt.Errorf("%q is not an IANA time zone like Europe/Paris", d.Timezone)
	}
	loc, err := time.LoadLocation(d.Timezone)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone like Europe/Paris", d.Timezone)
	}
	return loc, nil
}
