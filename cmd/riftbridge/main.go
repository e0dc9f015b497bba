// Command riftbridge bridges League of Legends match telemetry into Datadog.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes: 1 for failures at run time, 2 for bad input (flags, config,
// input files), which retrying will not fix.
const (
	exitFailure  = 1
	exitBadInput = 2
)

// badInput marks an error as the user's input being wrong.
type badInput struct{ err error }

func (e badInput) Error() string { return e.err.Error() }
func (e badInput) Unwrap() error { return e.err }

// run executes the command line and returns the process exit code. Every
// error ends as one line on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "riftbridge: %v\n", err)
	var bad badInput
	if errors.As(err, &bad) {
		return exitBadInput
	}
	return exitFailure
}

// joinLines folds an errors.Join list into one line.
func joinLines(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
