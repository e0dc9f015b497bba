package dashboards

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/riftbridge/riftbridge/mapper"
)

var (
	// metricRe finds the metric of each `agg:metric{` in a query.
	metricRe = regexp.MustCompile(`[a-z0-9]+:([A-Za-z][A-Za-z0-9_.]*)\{`)
	// checkRe finds the service check of a service check monitor query.
	checkRe = regexp.MustCompile(`^"([^"]+)"\.over\(`)
)

// TestQueriesNameCatalogMetrics reads every generated query back and fails if
// one names a metric the mapper's catalog does not list (the Agent's own
// checks aside), so the dashboards cannot drift from the catalog.
func TestQueriesNameCatalogMetrics(t *testing.T) {
	ns := "lol."
	known := map[string]bool{}
	for _, s := range mapper.Catalog() {
		known[ns+s.Name] = true
	}
	for _, name := range integrationMetrics {
		known[name] = true
	}
	checks := []string{ns + mapper.CheckCanConnect, mysqlCanConnect, mongoCanConnect}

	set, err := Build(ns, DefaultConfig(), exportNow)
	if err != nil {
		t.Fatal(err)
	}
	var queries, checkNames []string
	for _, d := range set.Dashboards {
		raw, err := json.Marshal(d.Body)
		if err != nil {
			t.Fatal(err)
		}
		var tree any
		if err := json.Unmarshal(raw, &tree); err != nil {
			t.Fatal(err)
		}
		walk(tree, func(key string, v string) {
			switch key {
			case "query":
				queries = append(queries, v)
			case "check":
				checkNames = append(checkNames, v)
			}
		})
	}
	for _, m := range set.Monitors {
		if c := checkRe.FindStringSubmatch(m.Body.Query); c != nil {
			checkNames = append(checkNames, c[1])
			continue
		}
		queries = append(queries, m.Body.Query)
	}
	if len(queries) < 20 {
		t.Fatalf("found only %d queries; the walk is broken", len(queries))
	}
	for _, q := range queries {
		found := metricRe.FindAllStringSubmatch(q, -1)
		if len(found) == 0 {
			t.Errorf("query %q names no metric", q)
		}
		for _, f := range found {
			if !known[f[1]] {
				t.Errorf("query %q names %q, which is not in the metric catalog", q, f[1])
			}
		}
	}
	for _, c := range checkNames {
		if !slices.Contains(checks, c) {
			t.Errorf("service check %q is not one riftbridge or the Agent checks send", c)
		}
	}
}

// walk calls fn for every string value in a decoded JSON tree with its key.
func walk(v any, fn func(key, value string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if s, ok := child.(string); ok {
				fn(k, s)
			}
			walk(child, fn)
		}
	case []any:
		for _, child := range v {
			walk(child, fn)
		}
	}
}

func TestBuilderRejectsUnknownNames(t *testing.T) {
	cases := []struct {
		name  string
		query func(b *builder)
		want  string
	}{
		{"metric", func(b *builder) { b.series("avg", b.metric("team.gold_typo"), nil) }, `metric "lol.team.gold_typo" is not in the mapper catalog`},
		{"agent metric", func(b *builder) { b.agent("system.cpu.typo") }, `"system.cpu.typo" is not an Agent check metric`},
		{"service check", func(b *builder) { b.check("bridge.nothing") }, `service check "bridge.nothing"`},
		{"champion stat", func(b *builder) { b.championStat("gold") }, `champion stat "gold" is not in the mapper catalog`},
		{"group by missing tag", func(b *builder) {
			b.series("avg", b.metric(mapper.MetricMatchGoldDiff), nil, mapper.TagChampion)
		}, `groups by tag "champion", which it does not carry`},
		{"filter on missing tag", func(b *builder) {
			b.series("avg", b.metric(mapper.MetricTeamGold), []string{"champion:ahri"})
		}, `filters on tag "champion", which it does not carry`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBuilder("lol", DefaultConfig())
			tc.query(b)
			if len(b.errs) != 1 || !strings.Contains(b.errs[0].Error(), tc.want) {
				t.Errorf("errors = %v, want one containing %s", b.errs, tc.want)
			}
		})
	}
}

func TestSeriesAppliesOnlyTemplateVariablesTheMetricCarries(t *testing.T) {
	b := newBuilder("lol.", Config{Scope: "env:prod"})
	b.vars = matchVars
	got := b.series("avg", b.metric(mapper.MetricParticipantGold), []string{"team:blue"}, mapper.TagChampion)
	want := "avg:lol.participant.gold{env:prod,team:blue,$match_id,$platform,$champion,$position} by {champion}"
	if got != want {
		t.Errorf("series = %q\nwant      %q", got, want)
	}
	got = b.series("avg", b.metric(mapper.MetricMatchGoldDiff), nil)
	if want := "avg:lol.match.gold_diff{env:prod,$match_id,$platform}"; got != want {
		t.Errorf("series = %q\nwant      %q", got, want)
	}
	if len(b.errs) > 0 {
		t.Fatal(b.errs)
	}
}
