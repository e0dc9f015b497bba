package ratelimit_test

import (
	"slices"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/riot"
	"github.com/riftbridge/riftbridge/riot/ratelimit"
)

func TestParseHeaders(t *testing.T) {
	tests := []struct {
		name       string
		header     string
		wantLimits []riot.Limit // nil when limitsErr
		limitsErr  bool
		wantCounts []riot.Limit
		countsErr  bool
	}{
		{
			name:       "dev key",
			header:     "20:1,100:120",
			wantLimits: []riot.Limit{{Count: 20, Window: time.Second}, {Count: 100, Window: 120 * time.Second}},
			wantCounts: []riot.Limit{{Count: 20, Window: time.Second}, {Count: 100, Window: 120 * time.Second}},
		},
		{
			name:       "single window with spaces",
			header:     " 500:10 ",
			wantLimits: []riot.Limit{{Count: 500, Window: 10 * time.Second}},
			wantCounts: []riot.Limit{{Count: 500, Window: 10 * time.Second}},
		},
		{
			name:       "zero is a count, not a limit",
			header:     "0:1,3:120",
			limitsErr:  true,
			wantCounts: []riot.Limit{{Count: 0, Window: time.Second}, {Count: 3, Window: 120 * time.Second}},
		},
		{name: "empty", header: ""},
		{name: "blank", header: "  "},
		{name: "no colon", header: "20", limitsErr: true, countsErr: true},
		{name: "trailing comma", header: "20:1,", limitsErr: true, countsErr: true},
		{name: "not a number", header: "a:1", limitsErr: true, countsErr: true},
		{name: "fractional window", header: "20:1.5", limitsErr: true, countsErr: true},
		{name: "negative count", header: "-1:1", limitsErr: true, countsErr: true},
		{name: "zero window", header: "20:0", limitsErr: true, countsErr: true},
		{name: "window past a day", header: "20:86401", limitsErr: true, countsErr: true},
		{name: "window overflowing a duration", header: "20:99999999999999999", limitsErr: true, countsErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			limits, err := riot.ParseLimits(tc.header)
			if (err != nil) != tc.limitsErr || !slices.Equal(limits, tc.wantLimits) {
				t.Errorf("ParseLimits(%q) = %v, %v; want %v, error %t", tc.header, limits, err, tc.wantLimits, tc.limitsErr)
			}
			counts, err := riot.ParseCounts(tc.header)
			if (err != nil) != tc.countsErr || !slices.Equal(counts, tc.wantCounts) {
				t.Errorf("ParseCounts(%q) = %v, %v; want %v, error %t", tc.header, counts, err, tc.wantCounts, tc.countsErr)
			}
		})
	}
}

func TestLimitString(t *testing.T) {
	limits, err := riot.ParseLimits("20:1,100:120")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range limits {
		got = append(got, l.String())
	}
	if want := []string{"20:1", "100:120"}; !slices.Equal(got, want) {
		t.Errorf("String() = %v, want %v", got, want)
	}
}

func TestPadding(t *testing.T) {
	tests := []struct {
		window, want time.Duration
	}{
		{100 * time.Millisecond, 20 * time.Millisecond},
		{time.Second, 50 * time.Millisecond},
		{10 * time.Second, 500 * time.Millisecond},
		{120 * time.Second, time.Second},
		{600 * time.Second, time.Second},
	}
	for _, tc := range tests {
		if got := ratelimit.Padding(tc.window); got != tc.want {
			t.Errorf("Padding(%v) = %v, want %v", tc.window, got, tc.want)
		}
	}
}
