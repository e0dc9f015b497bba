// Package redisconn is the one Redis connection that replicas' state store
// and shared rate limiter use: the client, the error for Redis being out of
// reach, and the URL as it may be shown.
package redisconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable wraps every failure to reach Redis or to have it serve
// (refused, reset, timed out, loading): count it and retry later.
var ErrUnavailable = errors.New("redis unavailable")

// Conn is a Redis client and the address it names in errors.
type Conn struct {
	Client *redis.Client
	// Addr is the URL without its password or query, for messages.
	Addr string
}

// Open parses rawURL (redis://[[user]:password@]host:port[/db], rediss://
// or unix://) into a client. It does not connect: the first command does,
// and reports an unreachable Redis. Errors never show the password.
func Open(rawURL string) (*Conn, error) {
	addr := Redact(rawURL)
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		// url.Error quotes the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("redis url %s: %w", addr, err)
	}
	return &Conn{Client: redis.NewClient(opts), Addr: addr}, nil
}

// Close closes the client.
func (c *Conn) Close() error { return c.Client.Close() }

// Redact returns rawURL without its password and query, as it may be logged.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable url)"
	}
	out := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if u.User != nil && u.User.Username() != "" {
		out.User = url.User(u.User.Username())
	}
	return out.String()
}

// Fail wraps an error of the client from op with the address, and with
// ErrUnavailable when Redis could not be reached or could not serve; a
// context that ended is the caller giving up, not Redis failing.
func (c *Conn) Fail(op string, err error) error {
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s on %s: %w", op, c.Addr, err)
	case unavailable(err):
		return fmt.Errorf("%s on %s: %w: %w", op, c.Addr, ErrUnavailable, err)
	}
	return fmt.Errorf("%s on %s: %w", op, c.Addr, err)
}

// unavailable tells whether err means Redis could not be reached or could
// not serve for now: every error but a reply, and the replies of a server
// that is loading, busy, full, read-only or without its master.
func unavailable(err error) bool {
	var reply redis.Error
	if !errors.As(err, &reply) {
		return true
	}
	for _, p := range []string{"LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS", "max number of clients"} {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}

// RouteLogs sends go-redis's own log lines (reconnects, pool errors) to l at
// debug; nil means slog.Default(). go-redis logs through one global logger.
func RouteLogs(l *slog.Logger) {
	if l == nil {
		l = slog.Default()
	}
	redis.SetLogger(redisLog{l})
}

type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.l.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}
