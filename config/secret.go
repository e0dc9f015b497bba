package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Secret holds a credential such as the Riot API key. It prints as
// [redacted] through fmt, %v, %+v, %#v and text or JSON encoding, so a
// logged or dumped config never leaks it; Reveal returns the value.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret itself, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string   { return s.mask() }
func (s Secret) GoString() string { return s.mask() }

// MarshalText keeps encoders (JSON, YAML, slog) from writing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }

func (s Secret) mask() string {
	if s == "" {
		return ""
	}
	return redacted
}

// Key returns the API key, from riot.api_key (or RIOT_API_KEY) or else from
// the file riot.api_key_file names, trimmed of surrounding whitespace. A key
// that is missing, or holds what an HTTP header cannot carry (a line break
// from two keys pasted together, a space), is refused here, at start, rather
// than sent and rejected by Riot as expired. Errors never show the key.
func (r Riot) Key() (Secret, error) {
	key, where := strings.TrimSpace(r.APIKey.Reveal()), "riot.api_key"
	if key == "" {
		if r.APIKeyFile == "" {
			return "", errors.New(`"riot.api_key": required: set it, RIOT_API_KEY or riot.api_key_file`)
		}
		data, err := os.ReadFile(r.APIKeyFile)
		if err != nil {
			return "", fmt.Errorf(`"riot.api_key_file": %w`, err)
		}
		if key, where = strings.TrimSpace(string(data)), "riot.api_key_file"; key == "" {
			return "", fmt.Errorf(`"riot.api_key_file": %s is empty`, r.APIKeyFile)
		}
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c >= 0x7f {
			return "", fmt.Errorf("%q: the key holds a line break, a space or another character an HTTP header cannot carry (byte %d of %d)", where, i+1, len(key))
		}
	}
	return Secret(key), nil
}
