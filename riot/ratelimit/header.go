package ratelimit

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Riot's rate-limit response headers.
const (
	headerAppLimit    = "X-App-Rate-Limit"
	headerAppCount    = "X-App-Rate-Limit-Count"
	headerMethodLimit = "X-Method-Rate-Limit"
	headerMethodCount = "X-Method-Rate-Limit-Count"
	headerLimitType   = "X-Rate-Limit-Type"
	headerRetryAfter  = "Retry-After"
)

// typeApplication is the X-Rate-Limit-Type of a 429 charged to the whole key.
const typeApplication = "application"

// maxWait bounds parsed windows so a garbled header cannot overflow a
// time.Duration or park a route for years.
const maxWait = 24 * time.Hour

// MaxRetryAfter bounds the wait a 429 imposes: Riot's longest window is ten
// minutes, so a longer Retry-After is garbled or hostile, and honouring it
// would stop a route for as long as it says.
const MaxRetryAfter = 10 * time.Minute

// Limit is one fixed window of a Riot rate limit: Count requests per Window.
// From a count header, Count is the number already used in that window.
type Limit struct {
	Count  int
	Window time.Duration
}

// String writes l the way Riot's headers do, "count:seconds".
func (l Limit) String() string {
	return fmt.Sprintf("%d:%d", l.Count, int64(l.Window/time.Second))
}

// ParseLimits parses an X-App-Rate-Limit or X-Method-Rate-Limit value such as
// "20:1,100:120". Every count and window must be positive; windows are whole
// seconds up to a day. An empty header yields no limits and no error.
func ParseLimits(header string) ([]Limit, error) {
	return parse(header, 1)
}

// ParseCounts parses an X-App-Rate-Limit-Count or X-Method-Rate-Limit-Count
// value such as "3:1,17:120"; a count may be zero. An empty header yields no
// counts and no error.
func ParseCounts(header string) ([]Limit, error) {
	return parse(header, 0)
}

func parse(header string, minCount int) ([]Limit, error) {
	if strings.TrimSpace(header) == "" {
		return nil, nil
	}
	var out []Limit
	if err := eachLimit(header, minCount, func(l Limit) { out = append(out, l) }); err != nil {
		return nil, err
	}
	return out, nil
}

// eachLimit walks a "count:seconds,…" header without allocating, because the
// count headers are read on every response.
func eachLimit(header string, minCount int, fn func(Limit)) error {
	for entry := range strings.SplitSeq(header, ",") {
		count, secs, ok := strings.Cut(strings.TrimSpace(entry), ":")
		if !ok {
			return fmt.Errorf("rate limit header %q: entry %q is not count:seconds", header, entry)
		}
		c, err := strconv.Atoi(count)
		if err != nil || c < minCount {
			return fmt.Errorf("rate limit header %q: count %q must be an integer ≥ %d", header, count, minCount)
		}
		s, err := strconv.ParseInt(secs, 10, 64)
		if err != nil || s <= 0 || time.Duration(s) > maxWait/time.Second {
			return fmt.Errorf("rate limit header %q: window %q must be 1 to %d seconds", header, secs, int64(maxWait/time.Second))
		}
		fn(Limit{Count: c, Window: time.Duration(s) * time.Second})
	}
	return nil
}

// retryAfter reads a Retry-After value: Riot sends integer seconds, the HTTP
// date form is accepted too. The wait d is at most MaxRetryAfter; asked is
// what the header said when that was longer, else 0. ok is false when the
// value is absent or invalid.
func retryAfter(v string, now time.Time) (d, asked time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, 0, false
		}
		d = min(time.Duration(s), maxWait/time.Second) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = min(max(t.Sub(now), 0), maxWait)
	} else {
		return 0, 0, false
	}
	if d > MaxRetryAfter {
		return MaxRetryAfter, d, true
	}
	return d, 0, true
}
