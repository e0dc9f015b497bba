package downtime_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/riftbridge/riftbridge/dashboards/ddtest"
	"github.com/riftbridge/riftbridge/dashboards/downtime"
)

const (
	apiKey = "0123456789abcdef0123456789abcdef"
	appKey = "fedcba9876543210fedcba9876543210fedcba98"
)

func weekly(scope string) downtime.Attributes {
	return downtime.Attributes{
		Scope:             scope,
		MonitorIdentifier: &downtime.MonitorIdentifier{MonitorTags: []string{"managed_by:riftbridge"}},
		Schedule: &downtime.Schedule{Timezone: "Europe/Paris", Recurrences: []downtime.Recurrence{
			{Rrule: "FREQ=WEEKLY;BYDAY=SA", Duration: "2d", Start: "2026-01-10T00:00"},
		}},
		Message: "weekends",
	}
}

func TestClientRoundTrip(t *testing.T) {
	srv := ddtest.New(t, apiKey, appKey)
	c := downtime.NewClient(srv.URL, apiKey, appKey, nil)
	ctx := context.Background()

	// More than one page of 100.
	for i := range 130 {
		if _, err := c.Create(ctx, weekly(fmt.Sprintf("env:e%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	all, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 130 || all[129].Attributes.Scope != "env:e129" || all[0].Status != downtime.StatusScheduled {
		t.Fatalf("List returned %d downtimes, last %+v", len(all), all[len(all)-1])
	}

	got, err := c.Update(ctx, all[0].ID, downtime.Attributes{Message: "changed"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Attributes.Message != "changed" || got.Attributes.Scope != "env:e0" {
		t.Errorf("Update kept %+v, want the message changed and the rest kept", got.Attributes)
	}
	if err := c.Cancel(ctx, all[0].ID); err != nil {
		t.Fatal(err)
	}
	if d := srv.Downtimes()[0]; d.Status != downtime.StatusCanceled || d.Status.Live() {
		t.Errorf("after Cancel, status %q", d.Status)
	}
}

func TestClientErrors(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		body    string
		wantMsg string
	}{
		{"string errors", 403, `{"errors":["Forbidden"]}`, "GET /api/v2/downtime: 403 Forbidden: Forbidden"},
		{"JSON:API errors", 400, `{"errors":[{"status":"400","title":"Bad Request","detail":"invalid rrule"}]}`, "GET /api/v2/downtime: 400 Bad Request: Bad Request: invalid rrule"},
		{"no body", 502, ``, "GET /api/v2/downtime: 502 Bad Gateway"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			_, err := downtime.NewClient(srv.URL, apiKey, appKey, nil).List(context.Background())
			var apiErr *downtime.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status || err.Error() != tc.wantMsg {
				t.Errorf("List error = %v, want %q", err, tc.wantMsg)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*downtime.Attributes)
		want   string
	}{
		{"both identifiers", func(a *downtime.Attributes) { id := int64(3); a.MonitorIdentifier.MonitorID = &id }, "set exactly one of monitor_id and monitor_tags"},
		{"no recurrences", func(a *downtime.Attributes) { a.Schedule.Recurrences = nil }, "at least one recurrence is required"},
		{"no FREQ", func(a *downtime.Attributes) { a.Schedule.Recurrences[0].Rrule = "BYDAY=SA" }, "FREQ is required"},
		{"DURATION in rule", func(a *downtime.Attributes) { a.Schedule.Recurrences[0].Rrule = "FREQ=DAILY;DURATION=PT1H" }, "DURATION is not supported"},
		{"zero duration", func(a *downtime.Attributes) { a.Schedule.Recurrences[0].Duration = "0h" }, `"0h" must be an integer`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := weekly("*")
			tc.change(&a)
			if err := a.ValidateCreate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ValidateCreate() = %v, want %q", err, tc.want)
			}
		})
	}
	if err := weekly("*").ValidateCreate(); err != nil {
		t.Errorf("valid downtime: %v", err)
	}
}
