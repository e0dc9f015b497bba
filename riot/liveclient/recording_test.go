package liveclient

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/riftbridge/riftbridge/bridge/bridgetest"
)

// TestRecordingRoundTrip writes a recording the way `riftbridge record`
// does, pretty-printed answers included, plain and gzipped, and reads it
// back.
func TestRecordingRoundTrip(t *testing.T) {
	capture := bridgetest.ReadFile(t, rankedCapture)
	events := []byte("{\n  \"Events\": [\n    {\"EventID\": 7, \"EventName\": \"DragonKill\", \"EventTime\": 400.5, \"DragonType\": \"Fire\", \"Stolen\": \"False\", \"KillerName\": \"x\", \"Assisters\": []}\n  ]\n}")
	at := time.Date(2026, 12, 1, 20, 0, 0, 123e6, time.UTC)
	for _, name := range []string{"game.jsonl", "game.jsonl.gz"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			var buf bytes.Buffer
			rw, err := NewRecordWriter(&buf, "https://127.0.0.1:2999")
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := rw.Write(at.Add(time.Duration(i)*time.Second), capture, events); err != nil {
					t.Fatal(err)
				}
			}
			if lines := strings.Count(buf.String(), "\n"); lines != 4 {
				t.Fatalf("%d lines, want a header and 3 polls, one line each", lines)
			}
			data := buf.Bytes()
			if strings.HasSuffix(name, ".gz") {
				var z bytes.Buffer
				zw := gzip.NewWriter(&z)
				zw.Write(data)
				zw.Close()
				data = z.Bytes()
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			rec, err := LoadRecording(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Polls) != 3 || !rec.Polls[2].At.Equal(at.Add(2*time.Second)) {
				t.Fatalf("polls %d, last at %v", len(rec.Polls), rec.Polls[len(rec.Polls)-1].At)
			}
			p := rec.Polls[0]
			if len(p.Game.AllPlayers) != 10 || len(p.Events) != 1 || p.Events[0].DragonType != "Fire" || p.Events[0].Stolen {
				t.Errorf("first poll: %d players, events %+v", len(p.Game.AllPlayers), p.Events)
			}
		})
	}
}

// TestRecordingSnapshot: a bare allgamedata capture is a one-poll recording
// whose every event is new.
func TestRecordingSnapshot(t *testing.T) {
	rec, err := LoadRecording(spectatedCapture)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Polls) != 1 || !rec.Polls[0].At.IsZero() || len(rec.Polls[0].Events) == 0 ||
		len(rec.Polls[0].Events) != len(rec.Polls[0].Game.Events.Events) {
		t.Errorf("snapshot: %d polls, %d events", len(rec.Polls), len(rec.Polls[0].Events))
	}
}

func TestRecordingErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	header := `{"riftbridge":"liveclient-recording","version":1}` + "\n"
	poll := func(at string) string {
		return `{"at":"` + at + `","allgamedata":` + strings.TrimSpace(string(bridgetest.ReadFile(t, practiceCapture))) + `,"eventdata":{"Events":[]}}` + "\n"
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "none.jsonl"), "no such file"},
		{"directory", dir, "not a regular file"},
		{"timeline", write("timeline.json", `{"metadata":{},"info":{"frames":[]}}`), "neither a riftbridge recording nor an allgamedata snapshot"},
		{"version", write("v2.jsonl", `{"riftbridge":"liveclient-recording","version":2}`+"\n"), ":1: recording version 2"},
		{"no polls", write("empty.jsonl", header), "a recording without a poll"},
		{"bad line", write("bad.jsonl", header+"{\"at\": 3}\n"), "bad.jsonl:2:"},
		{"bad answer", write("answer.jsonl", header+`{"at":"2026-12-01T20:00:00Z","allgamedata":{"allPlayers":[]},"eventdata":{"Events":[]}}`+"\n"), "answer.jsonl:2: allgamedata:"},
		{"backwards", write("back.jsonl", header+compact(poll("2026-12-01T20:00:01Z"))+compact(poll("2026-12-01T20:00:00Z"))), "back.jsonl:3: poll at 2026-12-01T20:00:00Z comes before the previous one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadRecording(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("LoadRecording = %v, want one line with %q", err, tc.want)
			}
		})
	}
}

// compact puts a poll line on one line, as RecordWriter writes it.
func compact(line string) string {
	var b bytes.Buffer
	rw := &RecordWriter{w: &b}
	var l recordedLine
	if err := json.Unmarshal([]byte(line), &l); err != nil {
		panic(err)
	}
	if err := rw.Write(l.At, l.AllGameData, l.EventData); err != nil {
		panic(err)
	}
	return b.String()
}
