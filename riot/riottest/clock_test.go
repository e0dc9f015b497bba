package riottest

import (
	"testing"
	"time"
)

func TestManualClock(t *testing.T) {
	c := NewManualClock(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("Now %v, want %v", c.Now(), t0)
	}
	c.Advance(1500 * time.Millisecond)
	c.Advance(time.Minute)
	if want := t0.Add(61500 * time.Millisecond); !c.Now().Equal(want) {
		t.Errorf("Now %v, want %v", c.Now(), want)
	}
}
