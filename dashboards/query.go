package dashboards

import (
	"fmt"
	"slices"
	"strings"

	"github.com/riftbridge/riftbridge/mapper"
)

// tagHost is the tag the Agent adds to everything it forwards.
const tagHost = "host"

// builder writes metric queries that may name only metrics riftbridge knows:
// the mapper's catalog (bridge telemetry included) and the Agent checks
// beside it.
// Anything else is kept as an error, so Build fails instead of shipping a
// query that draws nothing.
type builder struct {
	ns    string
	scope []string
	// vars are the template variables (named after their tag key) of the
	// dashboard being built.
	vars   []string
	known  map[string][]string // full metric name → tag keys it carries
	checks []string            // full service check names
	errs   []error
}

func newBuilder(namespace string, cfg Config) *builder {
	ns := namespace
	if ns != "" && !strings.HasSuffix(ns, ".") {
		ns += "."
	}
	known := map[string][]string{}
	for _, s := range mapper.Catalog() {
		known[ns+s.Name] = append(slices.Clone(s.Tags), tagHost)
	}
	for _, name := range integrationMetrics {
		known[name] = []string{tagHost}
	}
	checks := []string{ns + mapper.CheckCanConnect, mysqlCanConnect, mongoCanConnect}
	return &builder{ns: ns, scope: cfg.scopeTags(), known: known, checks: checks}
}

func (b *builder) fail(format string, args ...any) {
	b.errs = append(b.errs, fmt.Errorf(format, args...))
}

// metric returns the full name of a riftbridge metric.
func (b *builder) metric(name string) string {
	full := b.ns + name
	if _, ok := b.known[full]; !ok {
		b.fail("metric %q is not in the mapper catalog", full)
	}
	return full
}

// check returns the full name of a service check riftbridge knows: its own
// (name without namespace) or an Agent check's.
func (b *builder) check(name string) string {
	for _, full := range []string{b.ns + name, name} {
		if slices.Contains(b.checks, full) {
			return full
		}
	}
	b.fail("service check %q is neither riftbridge's nor an Agent check it knows", name)
	return name
}

// championStat returns the full name of the champion stat named as in
// mapper.ChampionStatNames.
func (b *builder) championStat(stat string) string {
	if slices.Contains(mapper.ChampionStatNames(), stat) {
		for _, s := range mapper.Catalog() {
			if strings.HasSuffix(s.Name, "."+stat) {
				return b.metric(s.Name)
			}
		}
	}
	b.fail("champion stat %q is not in the mapper catalog", stat)
	return stat
}

// agent returns the name of an Agent check metric.
func (b *builder) agent(name string) string {
	if !slices.Contains(integrationMetrics, name) {
		b.fail("metric %q is not an Agent check metric riftbridge knows", name)
	}
	return name
}

// series returns `agg:metric{filter}[ by {keys}]` for a full metric name.
// The filter holds the configured scope, the fixed key:value tags and the
// template variables of tags the metric carries and fixed does not pin.
func (b *builder) series(agg, full string, fixed []string, by ...string) string {
	tags := b.known[full]
	parts := slices.Clone(b.scope)
	pinned := map[string]bool{}
	for _, f := range fixed {
		key, _, _ := strings.Cut(f, ":")
		if !slices.Contains(tags, key) {
			b.fail("query on %q filters on tag %q, which it does not carry", full, key)
		}
		pinned[key] = true
		parts = append(parts, f)
	}
	for _, v := range b.vars {
		if slices.Contains(tags, v) && !pinned[v] {
			parts = append(parts, "$"+v)
		}
	}
	for _, k := range by {
		if !slices.Contains(tags, k) {
			b.fail("query on %q groups by tag %q, which it does not carry", full, k)
		}
	}
	filter := "*"
	if len(parts) > 0 {
		filter = strings.Join(parts, ",")
	}
	q := fmt.Sprintf("%s:%s{%s}", agg, full, filter)
	if len(by) > 0 {
		q += " by {" + strings.Join(by, ",") + "}"
	}
	return q
}

// count returns a series of a count metric, summed and shown as counts.
func (b *builder) count(full string, fixed []string, by ...string) string {
	return b.series("sum", full, fixed, by...) + ".as_count()"
}
