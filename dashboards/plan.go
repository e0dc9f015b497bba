package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadog"
)

// Verb is what push does to one object.
type Verb string

// Verbs of a plan.
const (
	Create    Verb = "create"
	Update    Verb = "update"
	Unchanged Verb = "unchanged"
	Cancel    Verb = "cancel"
)

// Object kinds.
const (
	KindDashboard = "dashboard"
	KindMonitor   = "monitor"
	KindDowntime  = "downtime"
)

// Action is one step of a plan.
type Action struct {
	Verb Verb
	Kind string
	Name string
	// ID is the Datadog id; empty for an object not created yet.
	ID string
}

func (a Action) String() string {
	s := fmt.Sprintf("%s %s %q", a.Verb, a.Kind, a.Name)
	if a.ID != "" {
		s += " (id " + a.ID + ")"
	}
	return s
}

// Plan is what Apply would change, worked out from the live objects.
type Plan struct {
	steps []step
}

type step struct {
	Action
	// apply makes the change and returns the object's id.
	apply func(context.Context) (string, error)
}

// Actions lists every step, unchanged objects included, in apply order.
func (p *Plan) Actions() []Action {
	out := make([]Action, 0, len(p.steps))
	for _, s := range p.steps {
		out = append(out, s.Action)
	}
	return out
}

// covers reports whether have holds every field of want with the same value.
// Fields only have holds (ids, timestamps, defaults Datadog fills in) do not
// count, so an object read back from Datadog covers the body that wrote it.
func covers(have, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			if hv, ok := h[k]; !ok || !covers(hv, wv) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !covers(h[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(have, want)
	}
}

// generic returns v as decoded JSON (maps, slices, float64...), for covers.
func generic(v any) (any, error) {
	raw, err := datadog.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(raw, &out)
	return out, err
}
