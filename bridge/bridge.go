// Package bridge is riftbridge at work: the pipeline from sources through
// the mapper to the sink, and the run and replay built around it.
package bridge

import (
	"io"
	"log/slog"
	"os"

	"github.com/riftbridge/riftbridge/config"
)

// InputError is a failure of the user's input (a config, a file, an
// address), which retrying will not fix.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Option configures Run and Replay.
type Option func(*options)

type options struct {
	stdout, stderr io.Writer
	configFile     string
	progress       func(done, total int)
}

// WithOutput sets where the stdout sink writes and where the log goes.
// Default: os.Stdout and os.Stderr.
func WithOutput(stdout, stderr io.Writer) Option {
	return func(o *options) { o.stdout, o.stderr = stdout, stderr }
}

// WithConfigFile makes Run reload when the file changes, as it does on
// SIGHUP. Default: SIGHUP only.
func WithConfigFile(path string) Option { return func(o *options) { o.configFile = path } }

// WithProgress has Replay call f after each frame delivered.
func WithProgress(f func(done, total int)) Option { return func(o *options) { o.progress = f } }

func newOptions(opts []Option) options {
	o := options{stdout: os.Stdout, stderr: os.Stderr}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// NewLogger is the process logger cfg asks for, on w: quiet (info) and
// text by default.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level)) // validated already
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
