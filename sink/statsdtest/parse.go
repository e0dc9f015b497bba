package statsdtest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind tells what a line carries.
type Kind uint8

// Kinds of DogStatsD lines.
const (
	Metric Kind = iota + 1
	Event
	ServiceCheck
)

// Datagram is one parsed DogStatsD line. Fields that do not apply to its Kind
// are zero.
type Datagram struct {
	Kind Kind

	// Name is the metric or service check name.
	Name string
	// Value is the metric value; sets must have numeric members too.
	Value float64
	// Type is the metric type: g, c, h, d, ms or s.
	Type string
	// Rate is the metric's sample rate, 1 when absent.
	Rate float64

	// Title and Text are the event's; Text has `\n` turned back into newlines.
	Title, Text string
	// Hostname (h:) belongs to events and service checks.
	Hostname string
	// AggregationKey (k:), Priority (p:), SourceType (s:) and AlertType (t:)
	// belong to events.
	AggregationKey, Priority, SourceType, AlertType string

	// Status (0 OK, 1 warning, 2 critical, 3 unknown) and Message (m:,
	// unescaped) belong to service checks.
	Status  int
	Message string

	// Tags (#) in order.
	Tags []string
	// Timestamp is |T for metrics and d: for events and service checks, in
	// unix seconds; 0 when absent.
	Timestamp int64
	// ContainerID (c:), ExternalEnv (e:) and Cardinality (card:) come from
	// datadog-go's origin detection and cardinality settings.
	ContainerID, ExternalEnv, Cardinality string
}

// HasTags reports whether d carries every one of tags.
func (d Datagram) HasTags(tags ...string) bool {
	for _, t := range tags {
		if !slices.Contains(d.Tags, t) {
			return false
		}
	}
	return true
}

// ParseLine parses one line of a datagram strictly: a metric
// name:value|type[|@rate][|#tags][|c:id][|e:env][|T<ts>][|card:c], an event
// _e{<title bytes>,<text bytes>}:title|text[|d:..][|h:..][|k:..][|p:..][|s:..][|t:..][|#..]
// or a service check _sc|name|status[|d:..][|h:..][|#..][|m:message]. Optional
// fields may come in any order but only once. It rejects what the Agent
// would misread or drop: bad name characters, non-numeric or non-finite
// values, unknown types or fields, empty or malformed tags, event lengths
// that do not match, and packed multi-value lines, which riftbridge never
// sends.
func ParseLine(line string) (Datagram, error) {
	var (
		d   Datagram
		err error
	)
	switch {
	case strings.ContainsAny(line, "\n\r"):
		err = errors.New("holds a line break")
	case strings.HasPrefix(line, "_e{"):
		d, err = parseEvent(line)
	case strings.HasPrefix(line, "_sc|"):
		d, err = parseServiceCheck(line)
	default:
		d, err = parseMetric(line)
	}
	if err != nil {
		return Datagram{}, fmt.Errorf("statsdtest: %q: %w", line, err)
	}
	return d, nil
}

func parseMetric(line string) (Datagram, error) {
	d := Datagram{Kind: Metric, Rate: 1}
	fields := strings.Split(line, "|")
	name, value, ok := strings.Cut(fields[0], ":")
	if !ok {
		return d, errors.New("no name:value")
	}
	if !validName(name) {
		return d, fmt.Errorf("name %q: want a letter, then ASCII letters, digits, _ or .", name)
	}
	d.Name = name
	var err error
	if d.Value, err = parseNumber(value); err != nil {
		return d, err
	}
	if len(fields) < 2 {
		return d, errors.New("no type")
	}
	d.Type = fields[1]
	if !slices.Contains([]string{"g", "c", "h", "d", "ms", "s"}, d.Type) {
		return d, fmt.Errorf("unknown type %q", d.Type)
	}
	err = eachField(fields[2:], func(f string) error {
		switch {
		case strings.HasPrefix(f, "@"):
			d.Rate, err = strconv.ParseFloat(f[1:], 64)
			if err != nil || !(d.Rate > 0 && d.Rate <= 1) {
				return fmt.Errorf("sample rate %q: want a number in (0, 1]", f[1:])
			}
		case strings.HasPrefix(f, "T"):
			d.Timestamp, err = parseTimestamp(f[1:])
			return err
		default:
			return d.commonField(f)
		}
		return nil
	})
	return d, err
}

func parseEvent(line string) (Datagram, error) {
	d := Datagram{Kind: Event}
	lengths, rest, ok := strings.Cut(line[len("_e{"):], "}:")
	if !ok {
		return d, errors.New("no }: after the lengths")
	}
	titleLen, textLen, ok := strings.Cut(lengths, ",")
	if !ok {
		return d, errors.New("lengths are not {title,text}")
	}
	nTitle, err := parseLength(titleLen)
	if err != nil {
		return d, err
	}
	nText, err := parseLength(textLen)
	if err != nil {
		return d, err
	}
	if nTitle == 0 {
		return d, errors.New("empty title")
	}
	if len(rest) < nTitle+1+nText || rest[nTitle] != '|' {
		return d, fmt.Errorf("title is not %d bytes followed by |", nTitle)
	}
	d.Title = rest[:nTitle]
	text := rest[nTitle+1 : nTitle+1+nText]
	rest = rest[nTitle+1+nText:]
	if rest != "" && rest[0] != '|' {
		return d, fmt.Errorf("text is not %d bytes followed by | or the end", nText)
	}
	if !utf8.ValidString(d.Title) || !utf8.ValidString(text) {
		return d, errors.New("title or text cuts a UTF-8 character: lengths must count bytes")
	}
	d.Text = strings.ReplaceAll(text, `\n`, "\n")
	if rest == "" {
		return d, nil
	}
	err = eachField(strings.Split(rest[1:], "|"), func(f string) error {
		key, value, _ := strings.Cut(f, ":")
		switch key {
		case "d":
			d.Timestamp, err = parseTimestamp(value)
			return err
		case "h":
			d.Hostname = value
		case "k":
			d.AggregationKey = value
		case "p":
			d.Priority = value
			if value != "normal" && value != "low" {
				return fmt.Errorf("priority %q: want normal or low", value)
			}
		case "s":
			d.SourceType = value
		case "t":
			d.AlertType = value
			if !slices.Contains([]string{"info", "warning", "error", "success"}, value) {
				return fmt.Errorf("alert type %q: want info, warning, error or success", value)
			}
		default:
			return d.commonField(f)
		}
		if value == "" {
			return fmt.Errorf("empty %s: field", key)
		}
		return nil
	})
	return d, err
}

func parseServiceCheck(line string) (Datagram, error) {
	d := Datagram{Kind: ServiceCheck}
	fields := strings.Split(line, "|")
	if len(fields) < 3 {
		return d, errors.New("want _sc|name|status")
	}
	if d.Name = fields[1]; !validName(d.Name) {
		return d, fmt.Errorf("name %q: want a letter, then ASCII letters, digits, _ or .", d.Name)
	}
	switch fields[2] {
	case "0", "1", "2", "3":
		d.Status = int(fields[2][0] - '0')
	default:
		return d, fmt.Errorf("status %q: want 0, 1, 2 or 3", fields[2])
	}
	var err error
	err = eachField(fields[3:], func(f string) error {
		key, value, _ := strings.Cut(f, ":")
		switch key {
		case "d":
			d.Timestamp, err = parseTimestamp(value)
			return err
		case "h":
			d.Hostname = value
		case "m":
			// datadog-go escapes newlines and "m:" but not "|".
			d.Message = strings.NewReplacer(`\n`, "\n", `m\:`, "m:").Replace(value)
		default:
			return d.commonField(f)
		}
		if value == "" {
			return fmt.Errorf("empty %s: field", key)
		}
		return nil
	})
	return d, err
}

// eachField calls parse on every optional field, rejecting empty and
// repeated ones.
func eachField(fields []string, parse func(f string) error) error {
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		if f == "" {
			return errors.New("empty field")
		}
		key := f[:1] // #tags, @rate, T<ts>
		if k, _, ok := strings.Cut(f, ":"); ok && !strings.Contains("#@T", key) {
			key = k
		}
		if seen[key] {
			return fmt.Errorf("field %q given twice", key)
		}
		seen[key] = true
		if err := parse(f); err != nil {
			return err
		}
	}
	return nil
}

// commonField parses the fields all kinds share: tags, container ID,
// external environment and cardinality.
func (d *Datagram) commonField(f string) error {
	var dst *string
	switch {
	case strings.HasPrefix(f, "#"):
		return d.parseTags(f[1:])
	case strings.HasPrefix(f, "card:"):
		dst = &d.Cardinality
	case strings.HasPrefix(f, "c:"):
		dst = &d.ContainerID
	case strings.HasPrefix(f, "e:"):
		dst = &d.ExternalEnv
	default:
		return fmt.Errorf("unknown field %q", f)
	}
	_, *dst, _ = strings.Cut(f, ":")
	if *dst == "" {
		return fmt.Errorf("empty field %q", f)
	}
	return nil
}

func (d *Datagram) parseTags(list string) error {
	d.Tags = strings.Split(list, ",")
	for _, t := range d.Tags {
		if t == "" {
			return fmt.Errorf("empty tag in %q", list)
		}
		if strings.IndexFunc(t, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
			return fmt.Errorf("tag %q holds a space or control character", t)
		}
	}
	return nil
}

func validName(name string) bool {
	if name == "" || !isLetter(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isLetter(c) && !('0' <= c && c <= '9') && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// parseNumber accepts decimal numbers only: no NaN, Inf, hex or underscores.
func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if s == "" || strings.Trim(s, "0123456789.-+eE") != "" || err != nil || math.IsInf(v, 0) {
		return 0, fmt.Errorf("value %q: not a finite decimal number", s)
	}
	return v, nil
}

func parseTimestamp(s string) (int64, error) {
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ts <= 0 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("timestamp %q: want positive unix seconds", s)
	}
	return ts, nil
}

func parseLength(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("length %q: want a byte count", s)
	}
	return n, nil
}
