package statsdtest

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line string
		want Datagram
	}{
		{
			line: "lol.team.gold:56649|g|#team:blue,queue:420",
			want: Datagram{Kind: Metric, Name: "lol.team.gold", Value: 56649, Type: "g", Rate: 1, Tags: []string{"team:blue", "queue:420"}},
		},
		{
			line: "lol.event.count:3|c|#event_type:champion_kill|T1712345678",
			want: Datagram{Kind: Metric, Name: "lol.event.count", Value: 3, Type: "c", Rate: 1, Tags: []string{"event_type:champion_kill"}, Timestamp: 1712345678},
		},
		{
			line: "a.b_c:-0.25|h|@0.5",
			want: Datagram{Kind: Metric, Name: "a.b_c", Value: -0.25, Type: "h", Rate: 0.5},
		},
		{
			line: "x:1|ms|T5|#k:v|c:ci-1|e:it-false,cn-x|card:low",
			want: Datagram{Kind: Metric, Name: "x", Value: 1, Type: "ms", Rate: 1, Tags: []string{"k:v"}, Timestamp: 5, ContainerID: "ci-1", ExternalEnv: "it-false,cn-x", Cardinality: "low"},
		},
		{
			line: "x:7|s",
			want: Datagram{Kind: Metric, Name: "x", Value: 7, Type: "s", Rate: 1},
		},
		{
			line: "x:1e3|d|#région:séoul",
			want: Datagram{Kind: Metric, Name: "x", Value: 1000, Type: "d", Rate: 1, Tags: []string{"région:séoul"}},
		},
		{
			line: `_e{11,17}:Baron slain|Red took\nit | ok|d:1712345678|k:KR_1|s:riftbridge|t:success|#team:red`,
			want: Datagram{Kind: Event, Title: "Baron slain", Text: "Red took\nit | ok", Timestamp: 1712345678, AggregationKey: "KR_1", SourceType: "riftbridge", AlertType: "success", Tags: []string{"team:red"}},
		},
		{
			// Lengths count bytes: "바론" is 6 bytes.
			line: "_e{6,0}:바론||h:host1|p:low",
			want: Datagram{Kind: Event, Title: "바론", Hostname: "host1", Priority: "low"},
		},
		{
			line: "_e{3,2}:a|b|c|",
			want: Datagram{Kind: Event, Title: "a|b", Text: "c|"},
		},
		{
			line: `_sc|lol.bridge.riot.can_connect|2|d:1712345678|h:web1|#region:kr|m:rate m\: limited\nretry`,
			want: Datagram{Kind: ServiceCheck, Name: "lol.bridge.riot.can_connect", Status: 2, Timestamp: 1712345678, Hostname: "web1", Tags: []string{"region:kr"}, Message: "rate m: limited\nretry"},
		},
		{
			line: "_sc|up|0",
			want: Datagram{Kind: ServiceCheck, Name: "up"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := ParseLine(tt.line)
			if err != nil {
				t.Fatalf("ParseLine: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseLine:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseLineRejects(t *testing.T) {
	tests := []struct {
		line, want string
	}{
		{"", "no name:value"},
		{"lol.gold", "no name:value"},
		{"lol.gold:1", "no type"},
		{":1|g", "name"},
		{"1lol:1|g", "name"},
		{"_lol:1|g", "name"},
		{"lol-gold:1|g", "name"},
		{"lol gold:1|g", "name"},
		{"lol.gold:abc|g", "not a finite decimal"},
		{"lol.gold:|g", "not a finite decimal"},
		{"lol.gold:NaN|g", "not a finite decimal"},
		{"lol.gold:Inf|g", "not a finite decimal"},
		{"lol.gold:1e999|g", "not a finite decimal"},
		{"lol.gold:0x10|g", "not a finite decimal"},
		{"lol.gold:1_000|g", "not a finite decimal"},
		{"lol.gold:1:2|d", "not a finite decimal"},
		{"lol.gold:1|x", "unknown type"},
		{"lol.gold:1|G", "unknown type"},
		{"lol.gold:1|", "unknown type"},
		{"lol.gold:1|g|", "empty field"},
		{"lol.gold:1|g||#a:b", "empty field"},
		{"lol.gold:1|g|#", "empty tag"},
		{"lol.gold:1|g|#a:b,", "empty tag"},
		{"lol.gold:1|g|#a:b,,c:d", "empty tag"},
		{"lol.gold:1|g|#a b", "space or control"},
		{"lol.gold:1|g|#a\tb", "space or control"},
		{"lol.gold:1|g|#a:b|#c:d", "given twice"},
		{"lol.gold:1|g|@0", "sample rate"},
		{"lol.gold:1|g|@1.5", "sample rate"},
		{"lol.gold:1|g|@x", "sample rate"},
		{"lol.gold:1|g|T", "timestamp"},
		{"lol.gold:1|g|T-5", "timestamp"},
		{"lol.gold:1|g|T0", "timestamp"},
		{"lol.gold:1|g|T12a", "timestamp"},
		{"lol.gold:1|g|T1|T2", "given twice"},
		{"lol.gold:1|g|x:y", "unknown field"},
		{"lol.gold:1|g|c:", "empty field"},
		{"lol.gold:1|g\nlol.kills:1|c", "line break"},
		{"lol.gold:1|g\r", "line break"},
		{"_e{", "no }:"},
		{"_e{5}:title|", "lengths"},
		{"_e{a,0}:title|", "length"},
		{"_e{-5,0}:title|", "length"},
		{"_e{0,0}:|", "empty title"},
		{"_e{4,0}:title|", "title is not 4 bytes"},
		{"_e{9,0}:title|", "title is not 9 bytes"},
		{"_e{5,3}:title|text", "text is not 3 bytes"},
		{"_e{5,9}:title|text", "title is not 5 bytes"},
		{"_e{1,0}:\xea\xb0|", "title is not 1 bytes"},
		{"_e{1,0}:\xea|", "UTF-8"},
		{"_e{1,1}:a|\xea|", "UTF-8"},
		{"_e{5,4}:title|text|t:fatal", "alert type"},
		{"_e{5,4}:title|text|p:high", "priority"},
		{"_e{5,4}:title|text|d:yesterday", "timestamp"},
		{"_e{5,4}:title|text|k:", "empty k:"},
		{"_e{5,4}:title|text|z:1", "unknown field"},
		{"_e{5,4}:title|text|s:a|s:b", "given twice"},
		{"_sc|up", "want _sc|name|status"},
		{"_sc|up|4", "status"},
		{"_sc|up|ok", "status"},
		{"_sc|u p|0", "name"},
		{"_sc|up|0|h:", "empty h:"},
		{"_sc|up|0|x", "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			d, err := ParseLine(tt.line)
			if err == nil {
				t.Fatalf("ParseLine accepted it as %+v", d)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseLine error %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestHasTags(t *testing.T) {
	d := Datagram{Tags: []string{"team:blue", "queue:420"}}
	for _, tt := range []struct {
		tags []string
		want bool
	}{
		{nil, true},
		{[]string{"team:blue"}, true},
		{[]string{"queue:420", "team:blue"}, true},
		{[]string{"team:red"}, false},
		{[]string{"team:blue", "queue:440"}, false},
		{[]string{"team"}, false},
	} {
		if got := d.HasTags(tt.tags...); got != tt.want {
			t.Errorf("HasTags(%q) = %v, want %v", tt.tags, got, tt.want)
		}
	}
}
