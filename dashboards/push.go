package dashboards

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadog"
	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"

	"github.com/riftbridge/riftbridge/dashboards/downtime"
)

// pageSize is how many objects one list request asks for.
const pageSize = 100

// Plan reads riftbridge's live objects and works out what Apply would do to
// make them match s. It writes nothing.
func (c *Client) Plan(ctx context.Context, s Set) (*Plan, error) {
	p := &Plan{}
	for _, part := range []func(context.Context, Set) ([]step, error){c.planDashboards, c.planMonitors, c.planDowntimes} {
		steps, err := part(ctx, s)
		if err != nil {
			return nil, err
		}
		p.steps = append(p.steps, steps...)
	}
	return p, nil
}

// Apply carries out the plan in order and reports each step to done, with the
// object's id, once made (unchanged ones too). It stops at the first refusal;
// pushing again resumes.
func (c *Client) Apply(ctx context.Context, p *Plan, done func(Action)) error {
	for _, s := range p.steps {
		if s.Verb == Unchanged {
			done(s.Action)
			continue
		}
		id, err := s.apply(ctx)
		if err != nil {
			return err
		}
		a := s.Action
		a.ID = id
		c.log.Debug("dashboards: applied", "verb", a.Verb, "kind", a.Kind, "name", a.Name, "id", a.ID)
		done(a)
	}
	return nil
}

func (c *Client) planDashboards(ctx context.Context, s Set) ([]step, error) {
	live, err := c.listDashboards(ctx)
	if err != nil {
		return nil, err
	}
	var steps []step
	for _, d := range s.Dashboards {
		body := d.Body
		st := step{Action: Action{Verb: Create, Kind: KindDashboard, Name: body.Title}}
		st.apply = func(ctx context.Context) (string, error) {
			got, resp, err := c.dashboards.CreateDashboard(c.auth(ctx), body)
			if err != nil {
				return "", requestError(fmt.Sprintf("create dashboard %q", body.Title), resp, err)
			}
			return got.GetId(), nil
		}
		if id := c.managedDashboard(live, body.Title); id != "" {
			cur, resp, err := c.dashboards.GetDashboard(c.auth(ctx), id)
			if err != nil {
				return nil, requestError(fmt.Sprintf("get dashboard %q", body.Title), resp, err)
			}
			st.ID, st.Verb = id, Update
			if same, err := sameJSON(cur, body, nil); err != nil {
				return nil, fmt.Errorf("compare dashboard %q: %w", body.Title, err)
			} else if same {
				st.Verb = Unchanged
			}
			st.apply = func(ctx context.Context) (string, error) {
				_, resp, err := c.dashboards.UpdateDashboard(c.auth(ctx), id, body)
				if err != nil {
					return "", requestError(fmt.Sprintf("update dashboard %q", body.Title), resp, err)
				}
				return id, nil
			}
		}
		steps = append(steps, st)
	}
	return steps, nil
}

func (c *Client) listDashboards(ctx context.Context) ([]datadogV1.DashboardSummaryDefinition, error) {
	var all []datadogV1.DashboardSummaryDefinition
	for start := int64(0); ; start += pageSize {
		opts := datadogV1.NewListDashboardsOptionalParameters().WithCount(pageSize).WithStart(start)
		page, resp, err := c.dashboards.ListDashboards(c.auth(ctx), *opts)
		if err != nil {
			return nil, requestError("list dashboards", resp, err)
		}
		all = append(all, page.Dashboards...)
		if len(page.Dashboards) < pageSize {
			return all, nil
		}
	}
}

// managedDashboard returns the id of riftbridge's dashboard titled title. A
// same-titled dashboard without the marker is someone else's: left alone.
func (c *Client) managedDashboard(live []datadogV1.DashboardSummaryDefinition, title string) string {
	for _, d := range live {
		if d.GetTitle() != title {
			continue
		}
		if strings.Contains(d.GetDescription(), ManagedTag) {
			return d.GetId()
		}
		c.log.Warn("dashboards: a dashboard with riftbridge's title is not managed by riftbridge; leaving it alone", "title", title, "id", d.GetId())
	}
	return ""
}

func (c *Client) planMonitors(ctx context.Context, s Set) ([]step, error) {
	live, err := c.listMonitors(ctx)
	if err != nil {
		return nil, err
	}
	var steps []step
	for _, m := range s.Monitors {
		body := m.Body
		name := body.GetName()
		st := step{Action: Action{Verb: Create, Kind: KindMonitor, Name: name}}
		st.apply = func(ctx context.Context) (string, error) {
			got, resp, err := c.monitors.CreateMonitor(c.auth(ctx), body)
			if err != nil {
				return "", requestError(fmt.Sprintf("create monitor %q", name), resp, err)
			}
			return strconv.FormatInt(got.GetId(), 10), nil
		}
		if i := slices.IndexFunc(live, func(l datadogV1.Monitor) bool { return l.GetName() == name }); i >= 0 {
			cur := live[i]
			id := cur.GetId()
			st.ID, st.Verb = strconv.FormatInt(id, 10), Update
			// A monitor's type cannot change, and Datadog reports a metric
			// alert with functions as a query alert; tag order carries no meaning.
			have, want := cur, body
			have.Tags, want.Tags = slices.Sorted(slices.Values(cur.Tags)), slices.Sorted(slices.Values(body.Tags))
			same, err := sameJSON(have, want, []string{"type"})
			if err != nil {
				return nil, fmt.Errorf("compare monitor %q: %w", name, err)
			}
			if same && sameMonitorType(cur.Type, body.Type) {
				st.Verb = Unchanged
			}
			update := datadogV1.MonitorUpdateRequest{
				Name: body.Name, Message: body.Message, Query: datadog.PtrString(body.Query),
				Options: body.Options, Tags: body.Tags, Priority: body.Priority,
			}
			st.apply = func(ctx context.Context) (string, error) {
				_, resp, err := c.monitors.UpdateMonitor(c.auth(ctx), id, update)
				if err != nil {
					return "", requestError(fmt.Sprintf("update monitor %q", name), resp, err)
				}
				return strconv.FormatInt(id, 10), nil
			}
		}
		steps = append(steps, st)
	}
	return steps, nil
}

// listMonitors returns the monitors tagged ManagedTag, oldest first.
func (c *Client) listMonitors(ctx context.Context) ([]datadogV1.Monitor, error) {
	var all []datadogV1.Monitor
	for page := int64(0); ; page++ {
		opts := datadogV1.NewListMonitorsOptionalParameters().WithMonitorTags(ManagedTag).WithPage(page).WithPageSize(pageSize)
		got, resp, err := c.monitors.ListMonitors(c.auth(ctx), *opts)
		if err != nil {
			return nil, requestError("list monitors", resp, err)
		}
		all = append(all, got...)
		if len(got) < pageSize {
			slices.SortFunc(all, func(a, b datadogV1.Monitor) int { return cmp.Compare(a.GetId(), b.GetId()) })
			return all, nil
		}
	}
}

func sameMonitorType(a, b datadogV1.MonitorType) bool {
	metric := func(t datadogV1.MonitorType) bool {
		return t == datadogV1.MONITORTYPE_METRIC_ALERT || t == datadogV1.MONITORTYPE_QUERY_ALERT
	}
	return a == b || metric(a) && metric(b)
}

func (c *Client) planDowntimes(ctx context.Context, s Set) ([]step, error) {
	all, err := c.downtimes.List(ctx)
	if err != nil {
		return nil, requestError("list downtimes", nil, err)
	}
	// Live downtimes riftbridge made, by name; the extra ones get canceled.
	ours := map[string][]downtime.Downtime{}
	for _, d := range all {
		if name := downtimeName(d); name != "" {
			ours[name] = append(ours[name], d)
		}
	}
	var steps []step
	for _, d := range s.Downtimes {
		want := d.Body
		name := d.Name
		st := step{Action: Action{Verb: Create, Kind: KindDowntime, Name: name}}
		st.apply = func(ctx context.Context) (string, error) {
			got, err := c.downtimes.Create(ctx, want)
			if err != nil {
				return "", requestError(fmt.Sprintf("create downtime %q", name), nil, err)
			}
			return got.ID, nil
		}
		if live := ours[name]; len(live) > 0 {
			cur := live[0]
			ours[name] = live[1:]
			patch := downtimePatch(cur.Attributes, want)
			st.ID, st.Verb = cur.ID, Update
			if reflect.DeepEqual(patch, downtime.Attributes{}) {
				st.Verb = Unchanged
			}
			st.apply = func(ctx context.Context) (string, error) {
				if _, err := c.downtimes.Update(ctx, cur.ID, patch); err != nil {
					return "", requestError(fmt.Sprintf("update downtime %q", name), nil, err)
				}
				return cur.ID, nil
			}
		}
		steps = append(steps, st)
	}
	for _, name := range []string{WeeknightsDowntime, WeekendsDowntime} {
		for _, d := range ours[name] {
			id := d.ID
			steps = append(steps, step{
				Action: Action{Verb: Cancel, Kind: KindDowntime, Name: name, ID: id},
				apply: func(ctx context.Context) (string, error) {
					if err := c.downtimes.Cancel(ctx, id); err != nil {
						return "", requestError(fmt.Sprintf("cancel downtime %q", name), nil, err)
					}
					return id, nil
				},
			})
		}
	}
	return steps, nil
}

// downtimeName returns the name of a live downtime riftbridge made, or "".
func downtimeName(d downtime.Downtime) string {
	mi := d.Attributes.MonitorIdentifier
	if !d.Status.Live() || mi == nil || !slices.Contains(mi.MonitorTags, ManagedTag) {
		return ""
	}
	name, _, _ := strings.Cut(d.Attributes.Message, "\n")
	if name != WeeknightsDowntime && name != WeekendsDowntime {
		return ""
	}
	return name
}

// downtimePatch returns the fields of want that differ from have. A schedule
// whose rules, durations and zone are unchanged keeps its first occurrence:
// the generated one moves forward at every build.
func downtimePatch(have, want downtime.Attributes) downtime.Attributes {
	var p downtime.Attributes
	if have.Scope != want.Scope {
		p.Scope = want.Scope
	}
	if !reflect.DeepEqual(have.MonitorIdentifier, want.MonitorIdentifier) {
		p.MonitorIdentifier = want.MonitorIdentifier
	}
	if !sameSchedule(have.Schedule, want.Schedule) {
		p.Schedule = want.Schedule
	}
	if have.Message != want.Message {
		p.Message = want.Message
	}
	if have.DisplayTimezone != want.DisplayTimezone {
		p.DisplayTimezone = want.DisplayTimezone
	}
	if !reflect.DeepEqual(have.MuteFirstRecoveryNotification, want.MuteFirstRecoveryNotification) {
		p.MuteFirstRecoveryNotification = want.MuteFirstRecoveryNotification
	}
	return p
}

func sameSchedule(a, b *downtime.Schedule) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Timezone == b.Timezone && slices.EqualFunc(a.Recurrences, b.Recurrences, func(x, y downtime.Recurrence) bool {
		return x.Rrule == y.Rrule && x.Duration == y.Duration
	})
}

// sameJSON reports whether the live object covers the generated body, leaving
// out the top-level keys in skip.
func sameJSON(live, body any, skip []string) (bool, error) {
	have, err := generic(live)
	if err != nil {
		return false, err
	}
	want, err := generic(body)
	if err != nil {
		return false, err
	}
	if m, ok := want.(map[string]any); ok {
		for _, k := range skip {
			delete(m, k)
		}
	}
	return covers(have, want), nil
}
