package sinktest

import (
	"time"

	"github.com/riftbridge/riftbridge/mapper"
)

// At is the time of every Fixture point: unix 1712326878.
var At = time.Date(2024, 4, 5, 14, 21, 18, 0, time.UTC)

// Fixture is a small frame with both kinds of point and an event.
func Fixture() mapper.Batch {
	return mapper.Batch{
		Points: []mapper.Point{
			{Name: "team.gold", Kind: mapper.Gauge, Value: 56649, Tags: []string{"team:blue", "queue:420"}, Time: At},
			{Name: "team.gold", Kind: mapper.Gauge, Value: 64250, Tags: []string{"team:red", "queue:420"}, Time: At},
			{Name: "participant.cs_per_min", Kind: mapper.Gauge, Value: 7.25, Tags: []string{"participant_id:3"}, Time: At},
			{Name: "event.count", Kind: mapper.Count, Value: 2, Tags: []string{"event_type:champion_kill"}, Time: At},
		},
		Events: []mapper.Event{{
			Title: "Baron Nashor slain", Text: "Red took Baron.\nGold lead 7k.", Time: At,
			Tags: []string{"team:red"}, AggregationKey: "KR_7014499581", AlertType: mapper.AlertSuccess,
		}},
	}
}
