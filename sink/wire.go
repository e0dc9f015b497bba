package sink

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/DataDog/datadog-go/v5/statsd"

	"github.com/riftbridge/riftbridge/mapper"
)

// sourceType tags every event with its origin in the Datadog event stream.
const sourceType = "riftbridge"

// sample is a point made safe for the DogStatsD wire.
type sample struct {
	name  string // sanitised, without namespace
	kind  mapper.Kind
	value float64 // whole for counts
	tags  []string
	time  time.Time // zero when the Agent stamps the point
}

// sample checks p and sanitises what the datagram framing cannot carry. The
// client validates nothing, so a stray "|", "," or newline would otherwise
// corrupt the datagram and every point sharing it.
func (c *config) sample(p mapper.Point, tc *tagCache) (sample, error) {
	s := sample{name: sanitizeName(p.Name), kind: p.Kind, value: p.Value, tags: tc.sanitize(p.Tags)}
	if s.name == "" || c.namespace == "" && !isLetter(s.name[0]) {
		return sample{}, fmt.Errorf("point %q: not a metric name", p.Name)
	}
	if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
		return sample{}, fmt.Errorf("point %s: value %v is not finite", s.name, p.Value)
	}
	switch p.Kind {
	case mapper.Gauge, mapper.Distribution:
	case mapper.Count:
		// datadog-go sends counts as int64.
		s.value = math.Round(p.Value)
		if math.Abs(s.value) >= math.MaxInt64 {
			return sample{}, fmt.Errorf("point %s: count %v does not fit an int64", s.name, p.Value)
		}
	default:
		return sample{}, fmt.Errorf("point %s: unknown kind %d", s.name, p.Kind)
	}
	// Distributions cannot carry a timestamp. datadog-go rejects times at
	// or before the epoch: such a point is dropped, not sent to be stamped
	// now, which would put it at the wrong time.
	if c.timestamps && !p.Time.IsZero() && p.Kind != mapper.Distribution {
		if p.Time.Unix() <= 0 {
			return sample{}, fmt.Errorf("point %s: time %v is not after 1970", s.name, p.Time)
		}
		s.time = p.Time
	}
	return s, nil
}

// event converts e to a datagram-safe statsd.Event that fits one payload:
// datadog-go drops an event larger than that, where the stdout sink would
// print it. Title and text travel with their byte lengths, so only newlines
// (which end a datagram line) need care there; the other fields are
// delimited by "|" and "#".
func (c *config) event(e mapper.Event) (statsd.Event, error) {
	ev, err := event(e)
	if err != nil {
		return ev, err
	}
	fitEvent(&ev, c.tags, c.maxPayload-payloadMargin)
	return ev, nil
}

// payloadMargin leaves room for what datadog-go adds to an event: DD_ENV,
// DD_SERVICE and DD_VERSION tags, a container id, a cardinality.
const payloadMargin = 256

func event(e mapper.Event) (statsd.Event, error) {
	title := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, e.Title)
	if strings.TrimSpace(title) == "" {
		return statsd.Event{}, errors.New("event without a title")
	}
	var ts time.Time
	if e.Time.Unix() > 0 {
		ts = e.Time
	}
	return statsd.Event{
		Title:          title,
		Text:           crlf.Replace(e.Text),
		Timestamp:      ts,
		AggregationKey: sanitizeTag(e.AggregationKey),
		SourceTypeName: sourceType,
		AlertType:      alertType(e.AlertType),
		Tags:           sanitizeTags(e.Tags),
	}, nil
}

// fitEvent shortens the text of ev, then its title, marking each cut with
// "…", until its line takes at most budget bytes.
func fitEvent(ev *statsd.Event, globalTags []string, budget int) {
	for _, field := range []*string{&ev.Text, &ev.Title} {
		over := eventSize(ev, globalTags) - budget
		if over <= 0 {
			return
		}
		// Newlines travel as `\n`, so cutting over bytes is enough.
		*field = cut(*field, len(*field)-over-len(ellipsis)) + ellipsis
	}
}

const ellipsis = "…"

// cut returns the longest prefix of s of at most n bytes that ends on a
// character boundary.
func cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// eventSize is the length of ev's DogStatsD line, as appendEvent writes it.
func eventSize(ev *statsd.Event, globalTags []string) int {
	text := len(ev.Text) + strings.Count(ev.Text, "\n")
	n := len("_e{,}:|") + len(strconv.Itoa(len(ev.Title))) + len(strconv.Itoa(text)) + len(ev.Title) + text
	if !ev.Timestamp.IsZero() {
		n += len("|d:") + len(strconv.FormatInt(ev.Timestamp.Unix(), 10))
	}
	if ev.AggregationKey != "" {
		n += len("|k:") + len(ev.AggregationKey)
	}
	n += len("|s:") + len(ev.SourceTypeName) + len("|t:") + len(ev.AlertType)
	for _, tags := range [][]string{globalTags, ev.Tags} {
		for _, t := range tags {
			n += 1 + len(t) // "|#" or ","
		}
	}
	if len(globalTags)+len(ev.Tags) > 0 {
		n++
	}
	return n
}

// serviceCheck converts sc to a datagram-safe statsd.ServiceCheck named with
// the namespace, which datadog-go applies to metrics only.
func (c *config) serviceCheck(sc mapper.ServiceCheck) (statsd.ServiceCheck, error) {
	name := sanitizeName(sc.Name)
	if name == "" || c.namespace == "" && !isLetter(name[0]) {
		return statsd.ServiceCheck{}, fmt.Errorf("service check %q: not a check name", sc.Name)
	}
	if sc.Status < mapper.CheckOK || sc.Status > mapper.CheckUnknown {
		return statsd.ServiceCheck{}, fmt.Errorf("service check %s: unknown status %d", name, sc.Status)
	}
	var ts time.Time
	if sc.Time.Unix() > 0 {
		ts = sc.Time
	}
	return statsd.ServiceCheck{
		Name:      c.namespace + name,
		Status:    statsd.ServiceCheckStatus(sc.Status),
		Timestamp: ts,
		// The message ends the line and is not length-prefixed: keep it on
		// one line and free of field separators.
		Message: strings.NewReplacer("\r", " ", "\n", " ", "|", "/").Replace(sc.Message),
		Tags:    sanitizeTags(sc.Tags),
	}, nil
}

// crlf turns carriage returns into the newlines datadog-go escapes as "\n".
var crlf = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// alertType maps unknown alert types to info, the Agent's own default.
func alertType(a mapper.AlertType) statsd.EventAlertType {
	switch t := statsd.EventAlertType(a); t {
	case statsd.Info, statsd.Warning, statsd.Error, statsd.Success:
		return t
	}
	return statsd.Info
}

func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// sanitizeName replaces every character Datadog does not allow in a metric
// name with "_". It allocates only when something changes.
func sanitizeName(s string) string {
	if safeName(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && (isLetter(byte(r)) || '0' <= r && r <= '9' || r == '_' || r == '.') {
			return r
		}
		return '_'
	}, s)
}

func safeName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !('0' <= c && c <= '9') && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// sanitizeTag replaces what would break a tag list on the wire — "|", ",",
// spaces and control characters — with "_". Everything else is left to the
// mapper and the Datadog intake, which normalise tags themselves.
func sanitizeTag(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '|' || r == ',' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return '_'
		}
		return r
	}, s)
}

// safeTag reports, without allocating, whether sanitizeTag would leave t as
// it is: the hot path, since the mapper already sends clean tags.
func safeTag(t string) bool {
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c >= utf8.RuneSelf {
			return sanitizeTag(t) == t
		}
		if c <= ' ' || c == '|' || c == ',' || c == 0x7f {
			return false
		}
	}
	return true
}

// tagCache remembers the last tag list it sanitised. The mapper shares one
// list across all ~50 points of a participant or team, so consecutive points
// skip the scan; one cache lives per Write call, so no locking.
type tagCache struct{ in, out []string }

func (c *tagCache) sanitize(tags []string) []string {
	if len(tags) > 0 && len(c.in) == len(tags) && &c.in[0] == &tags[0] {
		return c.out
	}
	c.in, c.out = tags, sanitizeTags(tags)
	return c.out
}

// sanitizeTags returns tags itself when every tag is safe, else a sanitised
// copy without empty tags: point tags are shared and must not be modified.
func sanitizeTags(tags []string) []string {
	for i, t := range tags {
		if t == "" || !safeTag(t) {
			clean := append([]string(nil), tags[:i]...)
			for _, t := range tags[i:] {
				if t != "" {
					clean = append(clean, sanitizeTag(t))
				}
			}
			return clean
		}
	}
	return tags
}
