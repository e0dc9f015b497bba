package ddtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/riftbridge/riftbridge/dashboards/ddtest"
)

const (
	apiKey = "0123456789abcdef0123456789abcdef"
	appKey = "fedcba9876543210fedcba9876543210fedcba98"
)

const (
	validDashboard = `{"title":"t","layout_type":"ordered","widgets":[{"definition":{"type":"timeseries","requests":[{"q":"avg:a.b{*}"}]}}]}`
	validMonitor   = `{"name":"m","type":"metric alert","query":"avg(last_5m):avg:a.b{*} > 10","tags":["managed_by:riftbridge"],"options":{"thresholds":{"critical":10,"warning":5},"notify_no_data":true,"no_data_timeframe":10}}`
	validDowntime  = `{"data":{"type":"downtime","attributes":{"scope":"*","monitor_identifier":{"monitor_tags":["managed_by:riftbridge"]},"schedule":{"timezone":"UTC","recurrences":[{"rrule":"FREQ=WEEKLY;BYDAY=SA","duration":"2d","start":"2026-01-10T00:00"}]}}}}`
)

func do(t *testing.T, srv *ddtest.Server, method, path, body string, keys ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		keys = []string{apiKey, appKey}
	}
	req.Header.Set("DD-API-KEY", keys[0])
	req.Header.Set("DD-APPLICATION-KEY", keys[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	// Refusals read as their decoded messages.
	var refusal struct{ Errors []string }
	if resp.StatusCode >= 300 && json.Unmarshal(got, &refusal) == nil {
		return resp.StatusCode, strings.Join(refusal.Errors, "; ")
	}
	return resp.StatusCode, string(got)
}

func TestServerValidates(t *testing.T) {
	cases := []struct {
		name         string
		method, path string
		body         string
		keys         []string
		wantStatus   int
		wantBody     string
	}{
		{"wrong api key", "GET", "/api/v1/dashboard", "", []string{"nope", appKey}, 403, "Forbidden"},
		{"missing app key", "POST", "/api/v1/monitor", validMonitor, []string{apiKey, ""}, 403, "Forbidden"},
		{"dashboard", "POST", "/api/v1/dashboard", validDashboard, nil, 200, `"id":"rb1-tst-dsh"`},
		{"dashboard unknown field", "POST", "/api/v1/dashboard", strings.Replace(validDashboard, `"title"`, `"titel":"x","title"`, 1), nil, 400, `unknown field(s) titel in Dashboard`},
		{"dashboard bad widget type", "POST", "/api/v1/dashboard", strings.Replace(validDashboard, `"timeseries"`, `"timeserie"`, 1), nil, 400, `body.widgets[0].definition: not a valid WidgetDefinition`},
		{"dashboard missing widgets", "POST", "/api/v1/dashboard", `{"title":"t","layout_type":"ordered"}`, nil, 400, `required field widgets missing`},
		{"dashboard non-team tag", "POST", "/api/v1/dashboard", strings.Replace(validDashboard, `"title"`, `"tags":["env:prod"],"title"`, 1), nil, 400, `only team:<name> tags`},
		{"update unknown dashboard", "PUT", "/api/v1/dashboard/nope", validDashboard, nil, 404, `Dashboard not found`},
		{"monitor", "POST", "/api/v1/monitor", validMonitor, nil, 200, `"id":1`},
		{"monitor threshold mismatch", "POST", "/api/v1/monitor", strings.Replace(validMonitor, `"critical":10`, `"critical":11`, 1), nil, 400, `Alert threshold (11) does not match that used in the query (10).`},
		{"monitor warning above critical", "POST", "/api/v1/monitor", strings.Replace(validMonitor, `"warning":5`, `"warning":12`, 1), nil, 400, `Warning threshold (12) must be less severe`},
		{"monitor short no-data window", "POST", "/api/v1/monitor", strings.Replace(validMonitor, `"no_data_timeframe":10`, `"no_data_timeframe":6`, 1), nil, 400, `no_data_timeframe (6) must be at least twice`},
		{"monitor bad type", "POST", "/api/v1/monitor", strings.Replace(validMonitor, `"metric alert"`, `"metric alarm"`, 1), nil, 400, `not a valid Monitor`},
		{"downtime", "POST", "/api/v2/downtime", validDowntime, nil, 200, `"status":"scheduled"`},
		{"downtime without scope", "POST", "/api/v2/downtime", strings.Replace(validDowntime, `"scope":"*",`, ``, 1), nil, 400, `scope: required`},
		{"downtime bad duration", "POST", "/api/v2/downtime", strings.Replace(validDowntime, `"2d"`, `"2 days"`, 1), nil, 400, `duration: "2 days" must be an integer followed by m, h, d or w`},
		{"downtime start with offset", "POST", "/api/v2/downtime", strings.Replace(validDowntime, `T00:00"`, `T00:00Z"`, 1), nil, 400, `must be an ISO-8601 date-time without UTC offset`},
		{"downtime bad zone", "POST", "/api/v2/downtime", strings.Replace(validDowntime, `"UTC"`, `"Mars/Base"`, 1), nil, 400, `schedule.timezone: "Mars/Base" is not an IANA time zone`},
		{"downtime unknown field", "POST", "/api/v2/downtime", strings.Replace(validDowntime, `"scope"`, `"scoop":"x","scope"`, 1), nil, 400, `unknown field "scoop"`},
		{"patch id mismatch", "PATCH", "/api/v2/downtime/abc", strings.Replace(validDowntime, `"type"`, `"id":"xyz","type"`, 1), nil, 400, `data.id "xyz" does not match the path id "abc"`},
		{"unknown route", "GET", "/api/v1/slo", "", nil, 404, `Not found`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := ddtest.New(t, apiKey, appKey)
			status, body := do(t, srv, tc.method, tc.path, tc.body, tc.keys...)
			if status != tc.wantStatus || !strings.Contains(body, tc.wantBody) {
				t.Errorf("%s %s = %d %s\nwant %d containing %s", tc.method, tc.path, status, body, tc.wantStatus, tc.wantBody)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || reqs[0].Status != tc.wantStatus || !bytes.Equal(reqs[0].Body, []byte(tc.body)) {
				t.Errorf("recorded %+v", reqs)
			}
		})
	}
}

func TestServerListsAndUpdates(t *testing.T) {
	srv := ddtest.New(t, apiKey, appKey)
	do(t, srv, "POST", "/api/v1/monitor", validMonitor)
	do(t, srv, "POST", "/api/v1/monitor", strings.Replace(validMonitor, `"managed_by:riftbridge"`, `"team:x"`, 1))

	status, body := do(t, srv, "GET", "/api/v1/monitor?monitor_tags=managed_by:riftbridge", "")
	var listed []map[string]any
	if err := json.Unmarshal([]byte(body), &listed); status != 200 || err != nil || len(listed) != 1 || listed[0]["id"] != 1.0 {
		t.Errorf("tag-filtered list = %d %s", status, body)
	}

	update := `{"query":"avg(last_5m):avg:a.b{*} > 20","options":{"thresholds":{"critical":20}}}`
	if status, body := do(t, srv, "PUT", "/api/v1/monitor/1", update); status != 200 || !strings.Contains(body, `"critical":20`) {
		t.Errorf("PUT monitor = %d %s", status, body)
	}
	if status, body := do(t, srv, "PUT", "/api/v1/monitor/1", `{"type":"service check"}`); status != 400 || !strings.Contains(body, "cannot be changed") {
		t.Errorf("type change = %d %s, want 400", status, body)
	}
	if m := srv.Monitors(); len(m) != 2 || m[0].Query != "avg(last_5m):avg:a.b{*} > 20" {
		t.Errorf("monitors after update: %+v", m)
	}

	do(t, srv, "POST", "/api/v1/dashboard", validDashboard)
	do(t, srv, "POST", "/api/v1/dashboard", validDashboard)
	if _, body := do(t, srv, "GET", "/api/v1/dashboard?count=1&start=1", ""); strings.Count(body, `"id"`) != 1 || !strings.Contains(body, `"rb`) {
		t.Errorf("paged dashboard list = %s", body)
	}
	id := *srv.Dashboards()[0].Id
	if status, body := do(t, srv, "PUT", "/api/v1/dashboard/"+id, strings.Replace(validDashboard, `"t"`, `"renamed"`, 1)); status != 200 || !strings.Contains(body, `"title":"renamed"`) {
		t.Errorf("PUT dashboard = %d %s", status, body)
	}
	if d := srv.Dashboards(); len(d) != 2 || d[0].Title != "renamed" || d[0].Widgets[0].Id == nil {
		t.Errorf("dashboards after update: %+v", d)
	}
}
