package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// EnvPrefix prefixes the environment variable of every key:
// replay.speed is RIFTBRIDGE_REPLAY_SPEED.
const EnvPrefix = "RIFTBRIDGE"

// Load builds the configuration from defaults, then the file at path (if
// any), then RIFTBRIDGE_* environment variables, then the flags that were set
// on the command line; flagKeys maps a flag name to its config key. Unknown
// keys in the file are an error naming the key. Load does not validate.
func Load(path string, flags *pflag.FlagSet, flagKeys map[string]string) (*Config, error) {
	v := viper.New()
	defaults, err := leafValues(NewDefault())
	if err != nil {
		return nil, err
	}
	for key, value := range defaults {
		v.SetDefault(key, value)
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	// Riot's own tooling and docs use RIOT_API_KEY.
	if err := v.BindEnv("riot.api_key", EnvPrefix+"_RIOT_API_KEY", "RIOT_API_KEY"); err != nil {
		return nil, fmt.Errorf("bind RIOT_API_KEY: %w", err)
	}

	if path != "" {
		if err := readFile(v, path, defaults); err != nil {
			return nil, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(flagKeys)) {
		if f := flags.Lookup(name); f != nil {
			if err := v.BindPFlag(flagKeys[name], f); err != nil {
				return nil, fmt.Errorf("bind flag --%s: %w", name, err)
			}
		}
	}

	cfg := NewDefault()
	if err := v.UnmarshalExact(cfg); err != nil {
		return nil, fmt.Errorf("%s: %s", blame(err, path, defaults, flags, flagKeys), oneLine(err))
	}
	return cfg, nil
}

// blame names where the value a decoding error quotes came from: a flag,
// the environment variable that overrides the file, or the file.
func blame(err error, path string, known map[string]any, flags *pflag.FlagSet, flagKeys map[string]string) string {
	msg := err.Error()
	for _, key := range slices.Sorted(maps.Keys(known)) {
		if !strings.Contains(msg, "'"+key+"'") {
			continue
		}
		for name, k := range flagKeys {
			if f := flags.Lookup(name); k == key && f != nil && f.Changed {
				return "flag --" + name
			}
		}
		// viper, like the shell, takes an empty variable as unset.
		env := EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		if os.Getenv(env) != "" {
			return "environment " + env
		}
	}
	if path != "" {
		return "config " + path
	}
	return "configuration"
}

// readFile reads the config file and rejects keys riftbridge does not know,
// naming the first offender the way a user would write it.
func readFile(v *viper.Viper, path string, known map[string]any) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("config %s: %w", path, errors.Unwrap(err))
	}
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		return fmt.Errorf("config %s: %s", path, oneLine(err))
	}
	file := viper.New()
	file.SetConfigFile(path)
	if err := file.ReadInConfig(); err != nil {
		return fmt.Errorf("config %s: %s", path, oneLine(err))
	}
	for _, key := range file.AllKeys() {
		if _, ok := known[key]; !ok && !underKnownKey(key, known) {
			return fmt.Errorf("config %s: unknown key %q", path, key)
		}
	}
	return nil
}

// underKnownKey accepts entries inside map- or list-valued keys.
func underKnownKey(key string, known map[string]any) bool {
	for k := range known {
		if strings.HasPrefix(key, k+".") {
			return true
		}
	}
	return false
}

// leafValues flattens a config into dotted keys, so viper knows every key
// (AutomaticEnv only resolves keys it knows).
func leafValues(cfg *Config) (map[string]any, error) {
	var tree map[string]any
	if err := mapstructure.Decode(cfg, &tree); err != nil {
		return nil, fmt.Errorf("flatten defaults: %w", err)
	}
	out := map[string]any{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, val := range m {
			if sub, ok := val.(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			out[prefix+k] = val
		}
	}
	walk("", tree)
	return out, nil
}

// oneLine folds mapstructure's multi-line error lists into one line.
func oneLine(err error) string {
	msg := strings.ReplaceAll(err.Error(), "decoding failed due to the following error(s):", "")
	return strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", " ")), " ")
}
