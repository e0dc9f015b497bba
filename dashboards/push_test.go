package dashboards

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadog"
	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/dashboards/ddtest"
	"github.com/riftbridge/riftbridge/dashboards/downtime"
)

const (
	testAPIKey = "0123456789abcdef0123456789abcdef"
	testAppKey = "fedcba9876543210fedcba9876543210fedcba98"
)

func newTestClient(t *testing.T, srv *ddtest.Server, apiKey string) *Client {
	t.Helper()
	c, err := NewClient(apiKey, testAppKey, telemetry.Settings{}, WithAPIURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func build(t *testing.T, cfg Config, now time.Time) Set {
	t.Helper()
	set, err := Build("lol.", cfg, now)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// push plans and applies s, returning every action as done.
func push(t *testing.T, c *Client, s Set) []Action {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	plan, err := c.Plan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	var done []Action
	if err := c.Apply(ctx, plan, func(a Action) { done = append(done, a) }); err != nil {
		t.Fatal(err)
	}
	return done
}

func verbs(actions []Action) map[Verb]int {
	n := map[Verb]int{}
	for _, a := range actions {
		n[a.Verb]++
	}
	return n
}

func ids(actions []Action) map[string]string {
	m := map[string]string{}
	for _, a := range actions {
		m[a.Kind+" "+a.Name] = a.ID
	}
	return m
}

func TestPushIsIdempotent(t *testing.T) {
	srv := ddtest.New(t, testAPIKey, testAppKey)
	c := newTestClient(t, srv, testAPIKey)

	first := push(t, c, build(t, DefaultConfig(), exportNow))
	if got := verbs(first); got[Create] != 7 || len(got) != 1 {
		t.Fatalf("first push: %v, want 7 creates", first)
	}
	for _, a := range first {
		if a.ID == "" {
			t.Errorf("%v: no id", a)
		}
	}

	// A week later the downtimes' first occurrences have moved on; that alone
	// is no change.
	writes := len(srv.Writes())
	second := push(t, c, build(t, DefaultConfig(), exportNow.AddDate(0, 0, 7)))
	if got := verbs(second); got[Unchanged] != 7 || len(got) != 1 {
		t.Errorf("second push: %v, want 7 unchanged", second)
	}
	if n := len(srv.Writes()) - writes; n != 0 {
		t.Errorf("second push made %d write requests, want none", n)
	}
	if got, want := ids(second), ids(first); !maps.Equal(got, want) {
		t.Errorf("second push ids %v, want %v", got, want)
	}
	if len(srv.Dashboards()) != 2 || len(srv.Monitors()) != 3 || len(srv.Downtimes()) != 2 {
		t.Errorf("server holds %d dashboards, %d monitors, %d downtimes; want 2, 3, 2",
			len(srv.Dashboards()), len(srv.Monitors()), len(srv.Downtimes()))
	}

	// Changed thresholds, handle and nights update in place; weekends off
	// cancels the weekend downtime.
	cfg := DefaultConfig()
	cfg.GoldDiffCritical = 9000
	cfg.Notify = "@slack-lol-alerts"
	cfg.Downtimes.WeeknightEnd = "08:00"
	cfg.Downtimes.Weekends = false
	writes = len(srv.Writes())
	third := push(t, c, build(t, cfg, exportNow))
	want := map[string]Verb{
		KindDashboard + " " + MatchTitle:        Unchanged,
		KindDashboard + " " + HostTitle:         Unchanged,
		KindMonitor + " " + GoldDiffMonitor:     Update,
		KindMonitor + " " + CanConnectMonitor:   Update,
		KindMonitor + " " + RateLimitedMonitor:  Update,
		KindDowntime + " " + WeeknightsDowntime: Update,
		KindDowntime + " " + WeekendsDowntime:   Cancel,
	}
	for _, a := range third {
		if want[a.Kind+" "+a.Name] != a.Verb {
			t.Errorf("third push: %v, want verb %s", a, want[a.Kind+" "+a.Name])
		}
		if a.ID != ids(first)[a.Kind+" "+a.Name] {
			t.Errorf("third push: %v changed id, want %s", a, ids(first)[a.Kind+" "+a.Name])
		}
	}
	var methods []string
	for _, r := range srv.Writes()[writes:] {
		methods = append(methods, r.Method)
	}
	if want := []string{"PUT", "PUT", "PUT", "PATCH", "DELETE"}; !slices.Equal(methods, want) {
		t.Errorf("third push wrote %v, want %v", methods, want)
	}
	// The PATCH carries only what changed: the schedule and the message.
	patch, err := downtime.DecodeRequest(srv.Writes()[writes+3].Body, ids(first)[KindDowntime+" "+WeeknightsDowntime])
	if err != nil {
		t.Fatal(err)
	}
	if patch.Schedule == nil || patch.Schedule.Recurrences[0].Duration != "13h" || patch.Message == "" ||
		patch.Scope != "" || patch.MonitorIdentifier != nil || patch.DisplayTimezone != "" {
		t.Errorf("weeknights PATCH = %+v, want only schedule (13h) and message", patch)
	}
	mons := srv.Monitors()
	if len(mons) != 3 || *mons[0].Options.Thresholds.Critical != 9000 || !strings.HasSuffix(mons[0].GetMessage(), "\n@slack-lol-alerts") {
		t.Errorf("gold diff monitor after update: %+v", mons[0])
	}
	if dts := srv.Downtimes(); len(dts) != 2 || dts[1].Status != downtime.StatusCanceled {
		t.Errorf("downtimes after third push: %+v, want the weekend one canceled", dts)
	}
}

// TestPushMeetsIssue checks what the issue's "done when" asks of the objects
// the server ends up holding.
func TestPushMeetsIssue(t *testing.T) {
	srv := ddtest.New(t, testAPIKey, testAppKey)
	push(t, newTestClient(t, srv, testAPIKey), build(t, DefaultConfig(), exportNow))

	var queries []string
	var timeseriesQueries []string
	var collect func(ws []datadogV1.Widget)
	collect = func(ws []datadogV1.Widget) {
		for _, w := range ws {
			def := w.Definition
			if g := def.GroupWidgetDefinition; g != nil {
				collect(g.Widgets)
			}
			if ts := def.TimeseriesWidgetDefinition; ts != nil {
				for _, r := range ts.Requests {
					for _, q := range r.Queries {
						queries = append(queries, q.FormulaAndFunctionMetricQueryDefinition.Query)
						timeseriesQueries = append(timeseriesQueries, q.FormulaAndFunctionMetricQueryDefinition.Query)
					}
				}
			}
		}
	}
	var match datadogV1.Dashboard
	for _, d := range srv.Dashboards() {
		if d.Title == MatchTitle {
			match = d
		}
	}
	collect(match.Widgets)
	has := func(substr string) bool {
		return slices.ContainsFunc(timeseriesQueries, func(q string) bool { return strings.Contains(q, substr) })
	}
	for _, want := range []string{"{team:blue,", "anomalies(", ".rollup(sum, 3600)"} {
		if !has(want) {
			t.Errorf("match timeboard has no timeseries query with %q", want)
		}
	}
	var vars []string
	for _, v := range match.TemplateVariables {
		vars = append(vars, v.Name)
	}
	if want := []string{"match_id", "platform", "champion", "team", "position"}; !slices.Equal(vars, want) {
		t.Errorf("template variables %v, want %v", vars, want)
	}

	var gold datadogV1.Monitor
	for _, m := range srv.Monitors() {
		if m.GetName() == GoldDiffMonitor {
			gold = m
		}
	}
	opts := gold.GetOptions()
	th := opts.GetThresholds()
	if th.GetCritical() != 8000 || th.GetWarning() != 5000 {
		t.Errorf("gold diff thresholds %+v, want critical 8000, warning 5000", th)
	}
	if !opts.GetNotifyNoData() || opts.GetNoDataTimeframe() != 10 {
		t.Errorf("gold diff no-data: notify %v after %d minutes, want true after 10", opts.GetNotifyNoData(), opts.GetNoDataTimeframe())
	}
	for _, branch := range []string{"{{#is_alert}}", "{{#is_warning}}", "{{#is_no_data}}", "{{value}}"} {
		if !strings.Contains(gold.GetMessage(), branch) {
			t.Errorf("gold diff message lacks %s", branch)
		}
	}
	if !slices.Contains(gold.Tags, ManagedTag) {
		t.Errorf("gold diff tags %v lack %s", gold.Tags, ManagedTag)
	}

	dts := srv.Downtimes()
	if len(dts) != 2 {
		t.Fatalf("server holds %d downtimes, want 2", len(dts))
	}
	for _, d := range dts {
		if s := d.Attributes.Schedule; s == nil || len(s.Recurrences) != 1 || !strings.HasPrefix(s.Recurrences[0].Rrule, "FREQ=WEEKLY") {
			t.Errorf("downtime %s: schedule %+v, want a weekly recurrence", d.ID, s)
		}
	}
}

func TestPlanWritesNothing(t *testing.T) {
	srv := ddtest.New(t, testAPIKey, testAppKey)
	plan, err := newTestClient(t, srv, testAPIKey).Plan(context.Background(), build(t, DefaultConfig(), exportNow))
	if err != nil {
		t.Fatal(err)
	}
	if got := verbs(plan.Actions()); got[Create] != 7 {
		t.Errorf("plan %v, want 7 creates", plan.Actions())
	}
	if w := srv.Writes(); len(w) != 0 {
		t.Errorf("planning made write requests: %+v", w)
	}
}

func TestWrongKeyFailsClearly(t *testing.T) {
	srv := ddtest.New(t, testAPIKey, testAppKey)
	wrong := "bad0bad0bad0bad0bad0bad0bad0bad0"
	_, err := newTestClient(t, srv, wrong).Plan(context.Background(), build(t, DefaultConfig(), exportNow))
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("Plan error = %v, want ErrForbidden", err)
	}
	msg := err.Error()
	if want := "list dashboards: GET /api/v1/dashboard: 403 Forbidden: check DD_API_KEY, DD_APP_KEY and DD_SITE"; msg != want {
		t.Errorf("error = %q\nwant    %q", msg, want)
	}
	if strings.Contains(msg, wrong) || strings.Contains(msg, testAppKey) {
		t.Error("error carries a key")
	}
	if len(srv.Writes()) != 0 {
		t.Error("a refused plan wrote")
	}
}

func TestRefusedRequestStopsPush(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(*Set)
		want   string
	}{
		{
			name:   "monitor threshold not in query",
			tamper: func(s *Set) { s.Monitors[0].Body.Options.Thresholds.Critical = datadog.PtrFloat64(1) },
			want:   `create monitor "riftbridge: gold difference": POST /api/v1/monitor: 400 Bad Request: Alert threshold (1) does not match that used in the query (8000).`,
		},
		{
			name:   "dashboard with a non-team tag",
			tamper: func(s *Set) { s.Dashboards[1].Body.Tags = *datadog.NewNullableList(&[]string{ManagedTag}) },
			want:   `create dashboard "riftbridge: match beside host and databases": POST /api/v1/dashboard: 400 Bad Request: Invalid dashboard tag "managed_by:riftbridge"`,
		},
		{
			name:   "downtime rule with DTSTART",
			tamper: func(s *Set) { s.Downtimes[0].Body.Schedule.Recurrences[0].Rrule = "DTSTART=20260101;FREQ=DAILY" },
			want:   `create downtime "riftbridge: weeknights": POST /api/v2/downtime: 400 Bad Request: schedule.recurrences[0].rrule: DTSTART is not supported`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := ddtest.New(t, testAPIKey, testAppKey)
			c := newTestClient(t, srv, testAPIKey)
			set := build(t, DefaultConfig(), exportNow)
			tc.tamper(&set)
			plan, err := c.Plan(context.Background(), set)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Apply(context.Background(), plan, func(Action) {})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Apply error = %v\nwant one line starting %s", err, tc.want)
			}
			last := srv.Requests()[len(srv.Requests())-1]
			if last.Status != http.StatusBadRequest {
				t.Errorf("push went on after the refusal: last request %s %s answered %d", last.Method, last.Path, last.Status)
			}
		})
	}
}

func TestPushLeavesOthersDashboardsAlone(t *testing.T) {
	srv := ddtest.New(t, testAPIKey, testAppKey)
	c := newTestClient(t, srv, testAPIKey)
	theirs := datadogV1.Dashboard{Title: MatchTitle, LayoutType: datadogV1.DASHBOARDLAYOUTTYPE_ORDERED, Widgets: []datadogV1.Widget{}}
	if _, _, err := c.dashboards.CreateDashboard(c.auth(context.Background()), theirs); err != nil {
		t.Fatal(err)
	}
	done := push(t, c, build(t, DefaultConfig(), exportNow))
	if got := verbs(done); got[Create] != 7 {
		t.Errorf("push: %v, want 7 creates", done)
	}
	ds := srv.Dashboards()
	if len(ds) != 3 || len(ds[0].Widgets) != 0 {
		t.Errorf("the hand-made dashboard was changed or lost: %d dashboards, first has %d widgets", len(ds), len(ds[0].Widgets))
	}
}

func TestPushRestoresEditedDashboard(t *testing.T) {
	srv := ddtest.New(t, testAPIKey, testAppKey)
	c := newTestClient(t, srv, testAPIKey)
	set := build(t, DefaultConfig(), exportNow)
	first := push(t, c, set)

	id := ids(first)[KindDashboard+" "+HostTitle]
	edited := set.Dashboards[1].Body
	edited.Widgets = edited.Widgets[:1]
	if _, _, err := c.dashboards.UpdateDashboard(c.auth(context.Background()), id, edited); err != nil {
		t.Fatal(err)
	}
	again := push(t, c, set)
	for _, a := range again {
		want := Unchanged
		if a.Kind == KindDashboard && a.Name == HostTitle {
			want = Update
		}
		if a.Verb != want {
			t.Errorf("%v, want %s", a, want)
		}
	}
	if got := len(srv.Dashboards()[1].Widgets); got != len(set.Dashboards[1].Body.Widgets) {
		t.Errorf("restored dashboard has %d widgets, want %d", got, len(set.Dashboards[1].Body.Widgets))
	}
}

func TestNewClientOptions(t *testing.T) {
	cases := []struct {
		name           string
		apiKey, appKey string
		opts           []ClientOption
		want           string
	}{
		{"no keys", "", "", nil, "DD_API_KEY and DD_APP_KEY must both be set"},
		{"no app key", testAPIKey, "", nil, "DD_API_KEY and DD_APP_KEY must both be set"},
		{"unknown site", testAPIKey, testAppKey, []ClientOption{WithSite("example.com")}, `DD_SITE "example.com" is not a Datadog site`},
		{"bad api url", testAPIKey, testAppKey, []ClientOption{WithAPIURL("127.0.0.1:8080")}, `api url "127.0.0.1:8080" is not an http(s) URL`},
		{"short site", testAPIKey, testAppKey, []ClientOption{WithSite("us5")}, ""},
		{"eu site", testAPIKey, testAppKey, []ClientOption{WithSite("datadoghq.eu")}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClient(tc.apiKey, tc.appKey, telemetry.Settings{}, tc.opts...)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("NewClient() error = %v, want %q", err, tc.want)
			}
		})
	}
}

// siteRecorder answers 403 to everything and remembers where requests went.
type siteRecorder struct{ urls []string }

func (r *siteRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.urls = append(r.urls, req.URL.Scheme+"://"+req.URL.Host+req.URL.Path)
	return &http.Response{
		StatusCode: http.StatusForbidden, Status: "403 Forbidden", Request: req,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   io.NopCloser(strings.NewReader(`{"errors":["Forbidden"]}`)),
	}, nil
}

func TestSiteSelectsAPIHost(t *testing.T) {
	for site, host := range map[string]string{"": "api.datadoghq.com", "eu": "api.datadoghq.eu", "us3": "api.us3.datadoghq.com", "ddog-gov": "api.ddog-gov.com"} {
		rec := &siteRecorder{}
		c, err := NewClient(testAPIKey, testAppKey, telemetry.Settings{}, WithSite(site), WithHTTPClient(&http.Client{Transport: rec}))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		_, _ = c.listDashboards(ctx)
		_, _ = c.downtimes.List(ctx)
		want := []string{"https://" + host + "/api/v1/dashboard", "https://" + host + "/api/v2/downtime"}
		if !slices.Equal(rec.urls, want) {
			t.Errorf("site %q: requests went to %v, want %v", site, rec.urls, want)
		}
	}
}
