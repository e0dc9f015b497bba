package dashboards

import (
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/dashboards/downtime"
)

func TestDowntimeSchedules(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	cases := []struct {
		name      string
		now       time.Time
		d         Downtimes
		wantNight downtime.Recurrence
		wantWeek  downtime.Recurrence
	}{
		{
			name:      "wednesday afternoon: tonight and saturday",
			now:       time.Date(2026, 1, 7, 15, 0, 0, 0, time.UTC),
			d:         Downtimes{Timezone: "UTC", Weeknights: true, Weekends: true, WeeknightStart: "19:00", WeeknightEnd: "09:00"},
			wantNight: downtime.Recurrence{Rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", Duration: "14h", Start: "2026-01-07T19:00"},
			wantWeek:  downtime.Recurrence{Rrule: "FREQ=WEEKLY;BYDAY=SA", Duration: "57h", Start: "2026-01-10T00:00"},
		},
		{
			name:      "friday night already started: next monday",
			now:       time.Date(2026, 1, 9, 20, 0, 0, 0, time.UTC),
			d:         Downtimes{Timezone: "UTC", Weeknights: true, Weekends: true, WeeknightStart: "19:00", WeeknightEnd: "09:00"},
			wantNight: downtime.Recurrence{Rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", Duration: "14h", Start: "2026-01-12T19:00"},
			wantWeek:  downtime.Recurrence{Rrule: "FREQ=WEEKLY;BYDAY=SA", Duration: "57h", Start: "2026-01-10T00:00"},
		},
		{
			// 23:30 UTC on Friday is already Saturday in Paris.
			name:      "read in the configured zone",
			now:       time.Date(2026, 1, 9, 23, 30, 0, 0, time.UTC),
			d:         Downtimes{Timezone: "Europe/Paris", Weeknights: true, Weekends: true, WeeknightStart: "23:00", WeeknightEnd: "06:30"},
			wantNight: downtime.Recurrence{Rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", Duration: "450m", Start: "2026-01-12T23:00"},
			wantWeek:  downtime.Recurrence{Rrule: "FREQ=WEEKLY;BYDAY=SA", Duration: "3270m", Start: "2026-01-17T00:00"},
		},
		{
			name:      "same-day window",
			now:       time.Date(2026, 1, 5, 0, 0, 0, 0, paris),
			d:         Downtimes{Timezone: "Europe/Paris", Weeknights: true, WeeknightStart: "01:00", WeeknightEnd: "07:00"},
			wantNight: downtime.Recurrence{Rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", Duration: "6h", Start: "2026-01-05T01:00"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Downtimes = tc.d
			got, err := downtimes(cfg, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]downtime.Recurrence{}
			if tc.d.Weeknights {
				want[WeeknightsDowntime] = tc.wantNight
			}
			if tc.d.Weekends {
				want[WeekendsDowntime] = tc.wantWeek
			}
			if len(got) != len(want) {
				t.Fatalf("got %d downtimes, want %d", len(got), len(want))
			}
			for _, d := range got {
				if err := d.Body.ValidateCreate(); err != nil {
					t.Errorf("%s: %v", d.Name, err)
				}
				s := d.Body.Schedule
				if s.Timezone != tc.d.Timezone || len(s.Recurrences) != 1 || s.Recurrences[0] != want[d.Name] {
					t.Errorf("%s: schedule %+v, want %+v in %s", d.Name, s.Recurrences, want[d.Name], tc.d.Timezone)
				}
				if got := d.Body.MonitorIdentifier.MonitorTags; len(got) != 1 || got[0] != ManagedTag {
					t.Errorf("%s: monitor tags %v, want [%s]", d.Name, got, ManagedTag)
				}
			}
		})
	}
}
