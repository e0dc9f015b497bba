package redisconn

import "testing"

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"redis://:secret@host", "redis://host"},
		{"redis://user:secret@host:6380/2?dial_timeout=3s", "redis://user@host:6380/2"},
		{"rediss://:secret@cache.example:6379/0", "rediss://cache.example:6379/0"},
		{"unix://:secret@/run/redis.sock?db=1", "unix:///run/redis.sock"},
		{"redis://127.0.0.1:6379", "redis://127.0.0.1:6379"},
		{"redis://:secret@host:bad port", "(unparsable url)"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestOpenBadURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"redis://:secret@host:port", `redis url (unparsable url): invalid port ":port" after host`},
		{"http://:secret@host", "redis url http://host: redis: invalid URL scheme: http"},
		{"redis://:secret@host/x", `redis url redis://host/x: redis: invalid database number: "x"`},
		{"redis://:secret@host?bogus=1", "redis url redis://host: redis: unexpected option: bogus"},
	} {
		_, err := Open(tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Open(%q): %v, want %q", tc.in, err, tc.want)
		}
	}
}
