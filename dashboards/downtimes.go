package dashboards

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riftbridge/riftbridge/dashboards/downtime"
)

// Downtime names. A v2 downtime has neither name nor tags, so the name is the
// first line of its message, which push matches on.
const (
	WeeknightsDowntime = "riftbridge: weeknights"
	WeekendsDowntime   = "riftbridge: weekends"
)

var weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

// downtimes returns the recurring downtimes cfg turns on, each starting at its
// first occurrence after now.
func downtimes(cfg Config, now time.Time) ([]Downtime, error) {
	d := cfg.Downtimes
	loc, err := d.location()
	if err != nil {
		return nil, fmt.Errorf("downtimes.timezone: %w", err)
	}
	start, err := time.Parse(clockLayout, d.WeeknightStart)
	if err != nil {
		return nil, fmt.Errorf("downtimes.weeknight_start: %w", err)
	}
	end, err := time.Parse(clockLayout, d.WeeknightEnd)
	if err != nil {
		return nil, fmt.Errorf("downtimes.weeknight_end: %w", err)
	}
	night := end.Sub(start)
	if night <= 0 {
		night += 24 * time.Hour
	}
	// Until Monday's end of night, so Sunday night is silenced too.
	weekend := 48*time.Hour + end.Sub(end.Truncate(24*time.Hour))

	scope := "*"
	if tags := cfg.scopeTags(); len(tags) > 0 {
		scope = strings.Join(tags, " AND ")
	}
	recurring := func(slug, name, what, rrule string, first time.Time, length time.Duration) Downtime {
		return Downtime{Slug: slug, Name: name, Body: downtime.Attributes{
			Scope:             scope,
			MonitorIdentifier: &downtime.MonitorIdentifier{MonitorTags: []string{ManagedTag}},
			Schedule: &downtime.Schedule{
				Timezone: d.Timezone,
				Recurrences: []downtime.Recurrence{{
					Rrule:    rrule,
					Duration: duration(length),
					Start:    first.Format(downtime.StartLayout),
				}},
			},
			Message: fmt.Sprintf("%s\nSilences riftbridge's monitors %s (%s). Managed by `riftbridge dashboards push`: edits here are overwritten.",
				name, what, d.Timezone),
			DisplayTimezone:               d.Timezone,
			MuteFirstRecoveryNotification: ptr(true),
		}}
	}

	var out []Downtime
	if d.Weeknights {
		first := next(now.In(loc), start, weekdays)
		out = append(out, recurring("weeknights", WeeknightsDowntime,
			fmt.Sprintf("from %s to %s, nights starting Monday to Friday", d.WeeknightStart, d.WeeknightEnd),
			"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", first, night))
	}
	if d.Weekends {
		first := next(now.In(loc), time.Time{}, []time.Weekday{time.Saturday})
		out = append(out, recurring("weekends", WeekendsDowntime,
			fmt.Sprintf("from Saturday 00:00 to Monday %s", d.WeeknightEnd),
			"FREQ=WEEKLY;BYDAY=SA", first, weekend))
	}
	return out, nil
}

// next returns the first time after now, on one of days, at the clock time of
// at, in now's location.
func next(now, at time.Time, days []time.Weekday) time.Time {
	y, m, day := now.Date()
	for i := 0; ; i++ {
		t := time.Date(y, m, day+i, at.Hour(), at.Minute(), 0, 0, now.Location())
		if t.After(now) && slices.Contains(days, t.Weekday()) {
			return t
		}
	}
}

// duration writes a downtime length in whole hours when it can, else minutes.
func duration(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}

func ptr[T any](v T) *T { return &v }
