// Package dashboards generates riftbridge's Datadog dashboards, monitors and downtimes from the metric catalog, exports them as API request bodies and pushes them idempotently.
package dashboards

import (
	"errors"
	"fmt"
	"time"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"

	"github.com/riftbridge/riftbridge/dashboards/downtime"
)

// ManagedTag marks the objects riftbridge owns: on monitors as a tag, in
// dashboard descriptions, and as the monitor selector of its downtimes.
const ManagedTag = "managed_by:riftbridge"

// Dashboard is a generated dashboard; Slug names its export file.
type Dashboard struct {
	Slug string
	Body datadogV1.Dashboard
}

// Monitor is a generated monitor; Slug names its export file.
type Monitor struct {
	Slug string
	Body datadogV1.Monitor
}

// Downtime is a generated downtime; Slug names its export file and Name is
// the first line of its message.
type Downtime struct {
	Slug string
	Name string
	Body downtime.Attributes
}

// Set is everything riftbridge manages in Datadog.
type Set struct {
	Dashboards []Dashboard
	Monitors   []Monitor
	Downtimes  []Downtime
}

// Build generates the set for metrics under namespace (e.g. "lol.") from the
// mapper's catalog. Recurring downtimes start at their first occurrence after
// now. cfg must be valid.
func Build(namespace string, cfg Config, now time.Time) (Set, error) {
	b := newBuilder(namespace, cfg)
	set := Set{
		Dashboards: []Dashboard{
			{Slug: "match", Body: matchTimeboard(b)},
			{Slug: "match-and-hosts", Body: hostBoard(b)},
		},
		Monitors: monitors(b, cfg),
	}
	if len(b.errs) > 0 {
		return Set{}, fmt.Errorf("generate dashboards: %w", errors.Join(b.errs...))
	}
	dts, err := downtimes(cfg, now)
	if err != nil {
		return Set{}, fmt.Errorf("generate downtimes: %w", err)
	}
	set.Downtimes = dts
	return set, nil
}
