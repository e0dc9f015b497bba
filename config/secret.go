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
// the file riot.api_key_file names, trimmed of surrounding whitespace.
func (r Riot) Key() (Secret, error) {
	if r.APIKey != "" {
		return r.APIKey, nil
	}
	if r.APIKeyFile == "" {
		return "", errors.New(`"riot.api_key": required: set it, RIOT_API_KEY or riot.api_key_file`)
	}
	data, err := os.ReadFile(r.APIKeyFile)
	if err != nil {
		return "", fmt.Errorf(`"riot.api_key_file": %w`, err)
	}
	key := strings.TrimSpace(string(data))
	if key == "" {
		return "", fmt.Errorf(`"riot.api_key_file": %s is empty`, r.APIKeyFile)
	}
	return Secret(key), nil
}
