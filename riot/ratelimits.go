package riot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxWindow bounds parsed windows so a garbled header cannot overflow a
// time.Duration or park a route for years.
const MaxWindow = 24 * time.Hour

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
	if err := EachLimit(header, minCount, func(l Limit) { out = append(out, l) }); err != nil {
		return nil, err
	}
	return out, nil
}

// EachLimit walks a "count:seconds,…" header without allocating, because the
// count headers are read on every response.
func EachLimit(header string, minCount int, fn func(Limit)) error {
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
		if err != nil || s <= 0 || time.Duration(s) > MaxWindow/time.Second {
			return fmt.Errorf("rate limit header %q: window %q must be 1 to %d seconds", header, secs, int64(MaxWindow/time.Second))
		}
		fn(Limit{Count: c, Window: time.Duration(s) * time.Second})
	}
	return nil
}
