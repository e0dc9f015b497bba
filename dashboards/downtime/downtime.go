// Package downtime is a small typed client for Datadog's v2 downtime API, kept apart from the official client's datadogV2 package, which takes minutes and gigabytes to compile.
package downtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// ResourceType is the JSON:API type of a downtime.
const ResourceType = "downtime"

// Status is the lifecycle state Datadog reports for a downtime.
type Status string

// Downtime statuses.
const (
	StatusScheduled Status = "scheduled"
	StatusActive    Status = "active"
	StatusCanceled  Status = "canceled"
	StatusEnded     Status = "ended"
)

// Live reports whether the downtime still silences monitors now or later.
func (s Status) Live() bool { return s == StatusScheduled || s == StatusActive }

// Attributes are the writable fields of a downtime. Create needs Scope and
// MonitorIdentifier; an update sends only the fields that change.
type Attributes struct {
	// Scope selects the monitor groups to silence, in search syntax ("env:prod", "*").
	Scope string `json:"scope,omitempty"`
	// MonitorIdentifier picks the monitors: one id, or every monitor with all the tags.
	MonitorIdentifier *MonitorIdentifier `json:"monitor_identifier,omitempty"`
	// Schedule is when the downtime applies; recurring schedules only.
	Schedule *Schedule `json:"schedule,omitempty"`
	// Message is shown with notifications sent during the downtime.
	Message string `json:"message,omitempty"`
	// DisplayTimezone is how the Datadog UI shows the times; not used for scheduling.
	DisplayTimezone string `json:"display_timezone,omitempty"`
	// MuteFirstRecoveryNotification mutes the first recovery inside the downtime.
	MuteFirstRecoveryNotification *bool `json:"mute_first_recovery_notification,omitempty"`
}

// MonitorIdentifier holds exactly one of MonitorID and MonitorTags.
type MonitorIdentifier struct {
	MonitorID   *int64   `json:"monitor_id,omitempty"`
	MonitorTags []string `json:"monitor_tags,omitempty"`
}

// Schedule is a recurring downtime schedule.
type Schedule struct {
	// Recurrences each silence for Duration at every occurrence of Rrule.
	Recurrences []Recurrence `json:"recurrences,omitempty"`
	// Timezone is the IANA zone Start and the rules are read in.
	Timezone string `json:"timezone,omitempty"`
}

// Recurrence is one RFC 5545 rule with its duration.
type Recurrence struct {
	// Duration is an integer followed by m, h, d or w, e.g. "14h".
	Duration string `json:"duration"`
	// Rrule is an RRULE without DTSTART, DTEND or DURATION.
	Rrule string `json:"rrule"`
	// Start is the first occurrence, local to the schedule's timezone, without
	// a UTC offset: "2026-01-05T19:00".
	Start string `json:"start,omitempty"`
}

// StartLayout is the layout of Recurrence.Start that riftbridge writes.
const StartLayout = "2006-01-02T15:04"

// Downtime is a downtime as the API returns it.
type Downtime struct {
	ID         string
	Status     Status
	Attributes Attributes
}

// envelope is the JSON:API wrapper of a request or response body.
type envelope struct {
	Data data `json:"data"`
}

type listEnvelope struct {
	Data []data `json:"data"`
	Meta struct {
		Page struct {
			TotalFilteredCount int `json:"total_filtered_count"`
		} `json:"page"`
	} `json:"meta"`
}

type data struct {
	ID         string         `json:"id,omitempty"`
	Type       string         `json:"type"`
	Attributes dataAttributes `json:"attributes"`
}

// dataAttributes adds the read-only status to the writable fields.
type dataAttributes struct {
	Attributes
	Status Status `json:"status,omitempty"`
}

func (d data) downtime() Downtime {
	return Downtime{ID: d.ID, Status: d.Attributes.Status, Attributes: d.Attributes.Attributes}
}

// CreateBody returns the request body that creates a downtime.
func CreateBody(a Attributes) ([]byte, error) {
	return json.Marshal(envelope{Data: data{Type: ResourceType, Attributes: dataAttributes{Attributes: a}}})
}

// UpdateBody returns the request body that patches downtime id.
func UpdateBody(id string, a Attributes) ([]byte, error) {
	return json.Marshal(envelope{Data: data{ID: id, Type: ResourceType, Attributes: dataAttributes{Attributes: a}}})
}

// ResponseBody returns the body the API answers with for one downtime.
func ResponseBody(d Downtime) ([]byte, error) {
	return json.Marshal(envelope{Data: fromDowntime(d)})
}

// ListBody returns the body the API answers with for a page of downtimes.
func ListBody(page []Downtime, total int) ([]byte, error) {
	var l listEnvelope
	l.Data = make([]data, 0, len(page))
	for _, d := range page {
		l.Data = append(l.Data, fromDowntime(d))
	}
	l.Meta.Page.TotalFilteredCount = total
	return json.Marshal(l)
}

func fromDowntime(d Downtime) data {
	return data{ID: d.ID, Type: ResourceType, Attributes: dataAttributes{Attributes: d.Attributes, Status: d.Status}}
}

// DecodeRequest decodes a create (id == "") or update request body strictly:
// unknown fields, a wrong type, a read-only status or a mismatched id are errors.
func DecodeRequest(body []byte, id string) (Attributes, error) {
	var env envelope
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return Attributes{}, fmt.Errorf("decode downtime request: %w", err)
	}
	switch {
	case env.Data.Type != ResourceType:
		return Attributes{}, fmt.Errorf("data.type must be %q, not %q", ResourceType, env.Data.Type)
	case env.Data.ID != id:
		return Attributes{}, fmt.Errorf("data.id %q does not match the path id %q", env.Data.ID, id)
	case env.Data.Attributes.Status != "":
		return Attributes{}, errors.New("data.attributes.status is read-only")
	}
	return env.Data.Attributes.Attributes, nil
}

var (
	durationRe = regexp.MustCompile(`^[1-9][0-9]*[mhdw]$`)
	ruleKeyRe  = regexp.MustCompile(`^[A-Z]+$`)
)

// ValidateCreate checks what Datadog requires to create a downtime.
func (a Attributes) ValidateCreate() error {
	var errs []error
	if a.Scope == "" {
		errs = append(errs, errors.New("scope: required"))
	}
	if a.MonitorIdentifier == nil {
		errs = append(errs, errors.New("monitor_identifier: required"))
	}
	return errors.Join(append(errs, a.ValidateUpdate())...)
}

// ValidateUpdate checks the fields that are set.
func (a Attributes) ValidateUpdate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if m := a.MonitorIdentifier; m != nil && (m.MonitorID == nil) == (len(m.MonitorTags) == 0) {
		bad("monitor_identifier: set exactly one of monitor_id and monitor_tags")
	}
	if s := a.Schedule; s != nil {
		if s.Timezone != "" {
			if _, err := time.LoadLocation(s.Timezone); err != nil {
				bad("schedule.timezone: %q is not an IANA time zone", s.Timezone)
			}
		}
		if len(s.Recurrences) == 0 {
			bad("schedule.recurrences: at least one recurrence is required")
		}
		for i, r := range s.Recurrences {
			if !durationRe.MatchString(r.Duration) {
				bad("schedule.recurrences[%d].duration: %q must be an integer followed by m, h, d or w", i, r.Duration)
			}
			if err := checkRrule(r.Rrule); err != nil {
				bad("schedule.recurrences[%d].rrule: %v", i, err)
			}
			if r.Start != "" && !validStart(r.Start) {
				bad("schedule.recurrences[%d].start: %q must be an ISO-8601 date-time without UTC offset", i, r.Start)
			}
		}
	}
	return errors.Join(errs...)
}

func checkRrule(rule string) error {
	if rule == "" {
		return errors.New("required")
	}
	freq := false
	for part := range strings.SplitSeq(rule, ";") {
		key, value, ok := strings.Cut(part, "=")
		if !ok || !ruleKeyRe.MatchString(key) || value == "" {
			return fmt.Errorf("%q is not KEY=VALUE", part)
		}
		switch key {
		case "DTSTART", "DTEND", "DURATION":
			return fmt.Errorf("%s is not supported; use start and duration", key)
		case "FREQ":
			freq = true
		}
	}
	if !freq {
		return errors.New("FREQ is required")
	}
	return nil
}

func validStart(s string) bool {
	for _, layout := range []string{StartLayout, "2006-01-02T15:04:05"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}
