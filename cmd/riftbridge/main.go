// Command riftbridge bridges League of Legends match telemetry into Datadog.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/riftbridge/riftbridge/bridge"
)

func main() {
	// One context per signal, to tell them apart in the exit code.
	term, stopTerm := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	ctx, stopInt := signal.NotifyContext(term, os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if code == exitInterrupted && term.Err() != nil {
		code = exitTerminated
	}
	stopInt()
	stopTerm()
	os.Exit(code)
}

// Exit codes: 1 for failures at run time, 2 for bad input (flags, config,
// input files), which retrying will not fix, and the shell's 128 + signal
// for a command a signal stopped short: a replay (`run` stops on SIGTERM as
// a service does, with 0).
const (
	exitFailure     = 1
	exitBadInput    = 2
	exitInterrupted = 128 + 2  // SIGINT
	exitTerminated  = 128 + 15 // SIGTERM
)

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
	var bad *bridge.InputError
	switch {
	case errors.As(err, &bad):
		return exitBadInput
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return exitInterrupted
	}
	return exitFailure
}
