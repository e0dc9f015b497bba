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
