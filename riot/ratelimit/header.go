package ratelimit

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/riftbridge/riftbridge/riot"
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

// MaxRetryAfter bounds the wait a 429 imposes: Riot's longest window is ten
// minutes, so a longer Retry-After is garbled or hostile, and honouring it
// would stop a route for as long as it says.
const MaxRetryAfter = 10 * time.Minute

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
		d = min(time.Duration(s), riot.MaxWindow/time.Second) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = min(max(t.Sub(now), 0), riot.MaxWindow)
	} else {
		return 0, 0, false
	}
	if d > MaxRetryAfter {
		return MaxRetryAfter, d, true
	}
	return d, 0, true
}
