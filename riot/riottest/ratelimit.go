package riottest

import (
	"strconv"
	"strings"
	"time"
)

// Limit is one Riot rate limit: at most Count requests per window of Seconds
// seconds, written "Count:Seconds" in the X-*-Rate-Limit headers.
type Limit struct {
	Count   int
	Seconds int
}

func (l Limit) String() string {
	return strconv.Itoa(l.Count) + ":" + strconv.Itoa(l.Seconds)
}

// LimitType is the X-Rate-Limit-Type of a 429. LimitUntyped is Riot's
// backend throttling: a 429 with neither that header nor Retry-After.
type LimitType string

// The 429 kinds Riot sends.
const (
	LimitApplication LimitType = "application"
	LimitMethod      LimitType = "method"
	LimitService     LimitType = "service"
	LimitUntyped     LimitType = ""
)

// Default limits: a development key's application limits and the method
// limits Riot publishes for the endpoints served here.
var (
	defaultAppLimits    = []Limit{{20, 1}, {100, 120}}
	defaultMethodLimits = map[Endpoint][]Limit{
		EndpointAccount:   {{1000, 60}},
		EndpointSpectator: {{20000, 10}},
		EndpointMatchIDs:  {{2000, 10}},
		EndpointMatch:     {{2000, 10}},
		EndpointTimeline:  {{2000, 10}},
	}
)

// window is a fixed window as Riot keeps them: it opens at the first request
// after the previous one expired, not on a clock boundary.
type window struct {
	limit    Limit
	start    time.Time
	count    int
	maxCount int
}

func (w *window) length() time.Duration { return time.Duration(w.limit.Seconds) * time.Second }

// bucket is the set of windows of one application or method limit.
type bucket []window

func newBucket(limits []Limit) bucket {
	b := make(bucket, len(limits))
	for i, l := range limits {
		b[i].limit = l
	}
	return b
}

// hit counts a request at now in every window, rejected or not, because
// Riot's counts keep rising past the limit. It returns the whole seconds
// until the longest exceeded window resets, or 0 when none is exceeded.
func (b bucket) hit(now time.Time) (retryAfter int) {
	for i := range b {
		w := &b[i]
		if w.start.IsZero() || !now.Before(w.start.Add(w.length())) {
			w.start, w.count = now, 0
		}
		w.count++
		w.maxCount = max(w.maxCount, w.count)
		if w.count > w.limit.Count {
			retryAfter = max(retryAfter, ceilSeconds(w.start.Add(w.length()).Sub(now)))
		}
	}
	return retryAfter
}

func ceilSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

// limits renders "20:1,100:120".
func (b bucket) limits() string {
	parts := make([]string, len(b))
	for i, w := range b {
		parts[i] = w.limit.String()
	}
	return strings.Join(parts, ",")
}

// counts renders "3:1,17:120", in the order of limits.
func (b bucket) counts() string {
	parts := make([]string, len(b))
	for i, w := range b {
		parts[i] = strconv.Itoa(w.count) + ":" + strconv.Itoa(w.limit.Seconds)
	}
	return strings.Join(parts, ",")
}
