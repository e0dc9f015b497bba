package sinktest_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/riftbridge/riftbridge/mapper"
	"github.com/riftbridge/riftbridge/sink"
	"github.com/riftbridge/riftbridge/sink/sinktest"
)

func TestMemoryKeepsBatches(t *testing.T) {
	var m sinktest.Memory
	b := sinktest.Fixture()
	for range 2 {
		if err := m.Write(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	want := append(append([]mapper.Point(nil), b.Points...), b.Points...)
	if got := m.Points(); !reflect.DeepEqual(got, want) {
		t.Errorf("Points() = %+v, want both batches in order", got)
	}
	if got := m.Events(); len(got) != 2 || got[1].Title != b.Events[0].Title {
		t.Errorf("Events() = %+v, want the event twice", got)
	}

	// The results are copies.
	m.Points()[0].Value = -1
	m.Events()[0].Title = "changed"
	if m.Points()[0].Value != 56649 || m.Events()[0].Title != "Baron Nashor slain" {
		t.Error("changing a returned slice changed the sink")
	}

	m.Reset()
	if len(m.Points()) != 0 || len(m.Events()) != 0 {
		t.Errorf("after Reset: %d points, %d events, want none", len(m.Points()), len(m.Events()))
	}
	if err := m.Write(t.Context(), b); err != nil {
		t.Errorf("Write after Reset: %v", err)
	}
}

func TestMemoryLast(t *testing.T) {
	var m sinktest.Memory
	later := sinktest.At.Add(time.Minute)
	if err := m.Write(t.Context(), sinktest.Fixture()); err != nil {
		t.Fatal(err)
	}
	if err := m.Write(t.Context(), mapper.Batch{Points: []mapper.Point{
		{Name: "team.gold", Kind: mapper.Gauge, Value: 57000, Tags: []string{"team:blue", "queue:420"}, Time: later},
	}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		tags      []string
		wantValue float64
		wantOK    bool
	}{
		{"team.gold", nil, 57000, true},
		{"team.gold", []string{"team:blue"}, 57000, true},
		{"team.gold", []string{"team:red"}, 64250, true},
		{"team.gold", []string{"queue:420", "team:red"}, 64250, true},
		{"team.gold", []string{"team:red", "queue:440"}, 0, false},
		{"team.gold", []string{"team"}, 0, false},
		{"lol.team.gold", nil, 0, false},
		{"event.count", []string{"event_type:champion_kill"}, 2, true},
		{"missing", nil, 0, false},
	}
	for _, tt := range tests {
		p, ok := m.Last(tt.name, tt.tags...)
		if ok != tt.wantOK || p.Value != tt.wantValue || ok && p.Name != tt.name {
			t.Errorf("Last(%q, %q) = %+v, %v; want value %v, %v", tt.name, tt.tags, p, ok, tt.wantValue, tt.wantOK)
		}
	}
}

func TestMemoryClose(t *testing.T) {
	var m sinktest.Memory
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := m.Write(ctx, sinktest.Fixture()); !errors.Is(err, context.Canceled) {
		t.Errorf("Write with a canceled context: %v, want context.Canceled", err)
	}
	if err := m.Flush(t.Context()); err != nil {
		t.Errorf("Flush: %v", err)
	}
	for range 2 {
		if err := m.Close(t.Context()); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	if err := m.Write(t.Context(), sinktest.Fixture()); !errors.Is(err, sink.ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}
	if len(m.Points()) != 0 {
		t.Errorf("kept %d points from failed writes", len(m.Points()))
	}
}

func TestMemoryConcurrent(t *testing.T) {
	var m sinktest.Memory
	const writers, batches = 8, 100
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range batches {
				if err := m.Write(t.Context(), sinktest.Fixture()); err != nil {
					t.Error(err)
				}
				m.Last("team.gold", "team:red")
				_ = m.Points()
			}
		})
	}
	wg.Wait()
	if got, want := len(m.Points()), writers*batches*len(sinktest.Fixture().Points); got != want {
		t.Errorf("%d points, want %d", got, want)
	}
	if got, want := len(m.Events()), writers*batches; got != want {
		t.Errorf("%d events, want %d", got, want)
	}
}
