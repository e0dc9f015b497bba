package bridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/riftbridge/riftbridge/mapper"
)

// serveHealth answers /healthz (the process is up) and /readyz (every
// player is resolved and Riot accepts the key).
func (r *run) serveHealth(ctx context.Context, ln net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		var resolved, total int
		var unknown []string
		if r.pollers != nil {
			resolved, total = r.pollers.Resolved()
			// Riot IDs Riot does not know are a config mistake to report,
			// not a reason to stay unready forever.
			unknown = r.pollers.Unknown()
		}
		check := r.tel.canConnect()
		held := r.tel.held()
		switch {
		case !r.ready.Load():
			http.Error(w, "starting", http.StatusServiceUnavailable)
		case check.Status == mapper.CheckCritical:
			http.Error(w, "riot: "+check.Message, http.StatusServiceUnavailable)
		case held != "":
			http.Error(w, held, http.StatusServiceUnavailable)
		case resolved+len(unknown) < total:
			http.Error(w, fmt.Sprintf("resolving players: %d of %d", resolved, total), http.StatusServiceUnavailable)
		case len(unknown) > 0:
			fmt.Fprintf(w, "ready: %d players; riot knows no account for %s\n", total, strings.Join(unknown, ", "))
		default:
			fmt.Fprintf(w, "ready: %d players\n", total)
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		r.log.Error("health endpoint stopped", "address", ln.Addr().String(), "error", err)
	}
}
