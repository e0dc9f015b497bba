package mapper

import "time"

// Kind is the DogStatsD type of a point.
type Kind uint8

const (
	// Gauge is the last value of a series in a flush interval.
	Gauge Kind = iota + 1
	// Count is summed over a flush interval.
	Count
	// Distribution is one sample of a server-side distribution (percentiles
	// across hosts), used for latencies. It cannot carry a timestamp.
	Distribution
)

func (k Kind) String() string {
	switch k {
	case Gauge:
		return "gauge"
	case Count:
		return "count"
	case Distribution:
		return "distribution"
	}
	return "unknown"
}

// Point is one metric sample. Name carries no namespace: sinks prepend it.
// Tags are "key:value" strings already sanitised for DogStatsD; they may be
// shared between points and must not be modified.
type Point struct {
	Name  string
	Kind  Kind
	Value float64
	Tags  []string
	Time  time.Time
}

// Event is a notable moment, sent as a Datadog event for dashboard overlays.
type Event struct {
	Title          string
	Text           string
	Time           time.Time
	Tags           []string
	AggregationKey string
	AlertType      AlertType
}

// AlertType is a Datadog event's alert type.
type AlertType string

// Alert types used by riftbridge events.
const (
	AlertInfo    AlertType = "info"
	AlertSuccess AlertType = "success"
	AlertWarning AlertType = "warning"
)

// CheckStatus is a Datadog service check status.
type CheckStatus int

// Service check statuses, as DogStatsD numbers them.
const (
	CheckOK CheckStatus = iota
	CheckWarning
	CheckCritical
	CheckUnknown
)

// ServiceCheck reports whether something riftbridge depends on works, like
// an Agent integration's can_connect check. Name carries no namespace.
type ServiceCheck struct {
	Name    string
	Status  CheckStatus
	Message string
	Tags    []string
	Time    time.Time
}

// Batch is what the mapper produces for one frame, or what the bridge
// reports about itself.
type Batch struct {
	Points        []Point
	Events        []Event
	ServiceChecks []ServiceCheck
}
