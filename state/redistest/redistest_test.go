package redistest_test

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/riftbridge/riftbridge/state/redistest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func client(t *testing.T, url string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opts.MaxRetries = -1
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestServerStopRestartKeepsData(t *testing.T) {
	for _, tc := range []struct {
		name     string
		password string
	}{
		{"open", ""},
		{"password", "s3cret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			var opts []redistest.Option
			if tc.password != "" {
				opts = append(opts, redistest.WithPassword(tc.password))
			}
			srv := redistest.Start(t, opts...)
			c := client(t, srv.URL)
			if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
				t.Fatalf("set: %v", err)
			}

			srv.Stop()
			if err := c.Ping(ctx).Err(); !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("ping a stopped server: got %v, want connection refused", err)
			}

			srv.Restart()
			if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
				t.Fatalf("get after restart: %q, %v; want \"v\"", got, err)
			}
		})
	}
}

func TestPasswordRequired(t *testing.T) {
	srv := redistest.Start(t, redistest.WithPassword("s3cret"))
	opts, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	opts.Password = ""
	c := redis.NewClient(opts)
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("ping without the password succeeded")
	}
}

func TestPrefixUniqueAndCleaned(t *testing.T) {
	url := redistest.URL(t)
	var prefix string
	t.Run("writer", func(t *testing.T) {
		prefix = redistest.Prefix(t, url)
		if other := redistest.Prefix(t, url); other == prefix {
			t.Fatalf("two prefixes are both %q", prefix)
		}
		if err := client(t, url).Set(context.Background(), prefix+"k", "v", 0).Err(); err != nil {
			t.Fatalf("set: %v", err)
		}
	})
	n, err := client(t, url).Exists(context.Background(), prefix+"k").Result()
	if err != nil {
		t.Fatal(err)
	}
	if shared := os.Getenv(redistest.EnvURL) != ""; shared && n != 0 {
		t.Errorf("key under %s survived its test on the shared Redis", prefix)
	}
}
