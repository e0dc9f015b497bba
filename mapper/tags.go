package mapper

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxTagLength is Datadog's limit for a whole "key:value" tag.
const maxTagLength = 200

// tagger builds "key:value" tags, leaving out dropped keys and empty values.
type tagger struct {
	drop map[string]bool
}

func newTagger(drop []string) tagger {
	t := tagger{drop: make(map[string]bool, len(drop))}
	for _, k := range drop {
		t.drop[k] = true
	}
	return t
}

// add appends key:value unless the key is dropped or the value is unknown.
func (t tagger) add(tags []string, key, value string) []string {
	if value == "" || t.drop[key] {
		return tags
	}
	tag := key + ":" + TagValue(value)
	if len(tag) > maxTagLength {
		tag = truncateUTF8(tag, maxTagLength)
	}
	return append(tags, tag)
}

// TagValue lowercases a value and replaces what DogStatsD or Datadog would
// misread (the separators | , # and anything but letters, digits, _ - : . /)
// with underscores, as the Datadog intake itself would.
func TagValue(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for _, r := range v {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case r == '_' || r == '-' || r == ':' || r == '.' || r == '/':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

func truncateUTF8(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ReservedTagKey says why Datadog treats a tag key specially, or "" when it
// does not: a host tag becomes the point's hostname, device its device, and
// source is kept for integrations. env, service and version, the unified
// service tags, are meant to be set by the user and are not reported.
func ReservedTagKey(key string) string {
	switch key {
	case "host":
		return "the Agent takes a host tag as the hostname of the point: set the hostname in the Agent instead"
	case "device":
		return "Datadog takes a device tag as the device of the point"
	case "source":
		return "Datadog reserves source for the integration that sent the data"
	}
	return ""
}
