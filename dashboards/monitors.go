package dashboards

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadog"
	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"

	"github.com/riftbridge/riftbridge/mapper"
)

// Monitor names: push finds its monitors again by name and ManagedTag.
const (
	GoldDiffMonitor    = "riftbridge: gold difference"
	CanConnectMonitor  = "riftbridge: Riot API unreachable"
	RateLimitedMonitor = "riftbridge: Riot API rate limited"
)

// noDataMinutes is how long a monitor waits before alerting on missing data;
// Datadog wants at least twice the 5-minute evaluation window.
const noDataMinutes = 10

// monitors returns riftbridge's monitors.
func monitors(b *builder, cfg Config) []Monitor {
	b.vars = nil
	tags := append([]string{ManagedTag, "service:" + eventSource}, b.scope...)
	notify := ""
	if cfg.Notify != "" {
		notify = "\n" + cfg.Notify
	}

	goldDiff := fmt.Sprintf("avg(last_5m):abs(%s) > %s",
		b.series("avg", b.metric(mapper.MetricMatchGoldDiff), nil), number(cfg.GoldDiffCritical))
	rateLimited := fmt.Sprintf("sum(last_5m):%s > %s",
		b.count(b.metric(mapper.MetricBridgeRateLimited), nil), number(cfg.RateLimitedThreshold))
	over := `"*"`
	if len(b.scope) > 0 {
		over = `"` + strings.Join(b.scope, `","`) + `"`
	}
	canConnect := fmt.Sprintf(`"%s".over(%s).by("host").last(3).count_by_status()`, b.check(mapper.CheckCanConnect), over)

	return []Monitor{
		{Slug: "gold-diff", Body: datadogV1.Monitor{
			Name:  datadog.PtrString(GoldDiffMonitor),
			Type:  datadogV1.MONITORTYPE_METRIC_ALERT,
			Query: goldDiff,
			Message: datadog.PtrString("{{#is_alert}}One team leads by {{value}} gold (critical above {{threshold}}): the game is running away.{{/is_alert}}\n" +
				"{{#is_warning}}One team leads by {{value}} gold (warning above {{warn_threshold}}).{{/is_warning}}\n" +
				fmt.Sprintf("{{#is_no_data}}No gold difference for %d minutes: no match is being bridged, or riftbridge stopped sending.{{/is_no_data}}\n", noDataMinutes) +
				"{{#is_recovery}}The gold difference is back below {{warn_threshold}}.{{/is_recovery}}" + notify),
			Tags: tags,
			Options: &datadogV1.MonitorOptions{
				Thresholds: &datadogV1.MonitorThresholds{
					Critical: datadog.PtrFloat64(cfg.GoldDiffCritical),
					Warning:  *datadog.NewNullableFloat64(datadog.PtrFloat64(cfg.GoldDiffWarning)),
				},
				NotifyNoData:      datadog.PtrBool(true),
				NoDataTimeframe:   *datadog.NewNullableInt64(datadog.PtrInt64(noDataMinutes)),
				RequireFullWindow: datadog.PtrBool(false),
				IncludeTags:       datadog.PtrBool(true),
			},
		}},
		{Slug: "riot-can-connect", Body: datadogV1.Monitor{
			Name:  datadog.PtrString(CanConnectMonitor),
			Type:  datadogV1.MONITORTYPE_SERVICE_CHECK,
			Query: canConnect,
			Message: datadog.PtrString("{{#is_alert}}riftbridge on {{host.name}} cannot reach the Riot API.{{/is_alert}}\n" +
				"{{#is_warning}}riftbridge on {{host.name}} failed to reach the Riot API.{{/is_warning}}\n" +
				fmt.Sprintf("{{#is_no_data}}riftbridge on {{host.name}} has not reported for %d minutes: is it running?{{/is_no_data}}\n", noDataMinutes) +
				"{{#is_recovery}}riftbridge on {{host.name}} reaches the Riot API again.{{/is_recovery}}" + notify),
			Tags: tags,
			Options: &datadogV1.MonitorOptions{
				Thresholds: &datadogV1.MonitorThresholds{
					Ok:       *datadog.NewNullableFloat64(datadog.PtrFloat64(1)),
					Warning:  *datadog.NewNullableFloat64(datadog.PtrFloat64(1)),
					Critical: datadog.PtrFloat64(2),
				},
				NotifyNoData:    datadog.PtrBool(true),
				NoDataTimeframe: *datadog.NewNullableInt64(datadog.PtrInt64(noDataMinutes)),
				IncludeTags:     datadog.PtrBool(true),
			},
		}},
		{Slug: "riot-rate-limited", Body: datadogV1.Monitor{
			Name:  datadog.PtrString(RateLimitedMonitor),
			Type:  datadogV1.MONITORTYPE_METRIC_ALERT,
			Query: rateLimited,
			Message: datadog.PtrString("{{#is_alert}}Riot answered 429 (rate limited) {{value}} times in 5 minutes (threshold {{threshold}}): lower the polling rate or check the API key's limits.{{/is_alert}}\n" +
				"{{#is_recovery}}Riot rate limiting is back under {{threshold}} per 5 minutes.{{/is_recovery}}" + notify),
			Tags: tags,
			Options: &datadogV1.MonitorOptions{
				Thresholds: &datadogV1.MonitorThresholds{
					Critical: datadog.PtrFloat64(cfg.RateLimitedThreshold),
				},
				// No 429s means no points: silence is good news here.
				NotifyNoData:      datadog.PtrBool(false),
				RequireFullWindow: datadog.PtrBool(false),
				IncludeTags:       datadog.PtrBool(true),
			},
		}},
	}
}

// number writes a threshold the way a query needs it: 8000, 0.5.
func number(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}
