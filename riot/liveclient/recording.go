package liveclient

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// A recording is JSON Lines, gzip-compressed when its name ends in .gz: a
// header line, then one line per poll holding the two answers as served,
// compacted:
//
//	{"riftbridge":"liveclient-recording","version":1,"address":"https://127.0.0.1:2999"}
//	{"at":"2026-12-01T20:00:00.123Z","allgamedata":{…},"eventdata":{"Events":[…]}}
//
// The first poll's allgamedata holds the game's history; later ones were
// asked with ?eventID=N, so every event is in the file once.
const recordingKind = "liveclient-recording"

// Bounds on what LoadRecording reads: a poll line holds two answers, and a
// whole game at one poll a second is a few thousand lines.
const (
	maxRecordingLine  = 2*MaxBody + 4<<10
	maxRecordingBytes = 1 << 30
	maxRecordingPolls = 100_000
)

// Recording is a followed game: what `riftbridge record` saved, or a single
// allgamedata snapshot.
type Recording struct {
	File  string
	Polls []RecordedPoll
}

// RecordedPoll is one poll of a recording.
type RecordedPoll struct {
	// At is when the answers arrived; zero in a snapshot.
	At time.Time
	// Game is the snapshot; in the first poll its events are the game's
	// history.
	Game *AllGameData
	// Events are the events new at this poll.
	Events []Event
}

type recordingHeader struct {
	Kind    string `json:"riftbridge"`
	Version int    `json:"version"`
	Address string `json:"address,omitempty"`
}

type recordedLine struct {
	At          time.Time      `json:"at"`
	AllGameData jsontext.Value `json:"allgamedata"`
	EventData   jsontext.Value `json:"eventdata"`
}

// LoadRecording reads a recording that `riftbridge record` wrote, or an
// allgamedata snapshot (a capture of /liveclientdata/allgamedata), whose
// events all count as new. Errors name the file and, for a recording, the
// line.
func LoadRecording(path string) (*Recording, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	r := io.Reader(bufio.NewReader(f))
	if magic, _ := r.(*bufio.Reader).Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	// One byte over the cap tells a file that is too large from one that
	// fits exactly.
	lr := &io.LimitedReader{R: r, N: maxRecordingBytes + 1}
	br := bufio.NewReaderSize(lr, 64<<10)
	rec, err := readRecording(path, br)
	if lr.N <= 0 {
		return nil, fmt.Errorf("%s: over %d MiB, not a recording of one game", path, maxRecordingBytes>>20)
	}
	return rec, err
}

func readRecording(path string, br *bufio.Reader) (*Recording, error) {
	head, err := br.Peek(min(br.Size(), 512))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte(`{"riftbridge":`)) {
		// Not our header: a snapshot, read whole.
		data, err := io.ReadAll(io.LimitReader(br, MaxBody+1))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		g, err := DecodeAllGameData(data)
		if err != nil {
			return nil, fmt.Errorf("%s: neither a riftbridge recording nor an allgamedata snapshot: %w", path, err)
		}
		return &Recording{File: path, Polls: []RecordedPoll{{Game: g, Events: g.Events.Events}}}, nil
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), maxRecordingLine)
	rec := &Recording{File: path}
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		if line == 1 {
			var h recordingHeader
			if err := json.Unmarshal(text, &h); err != nil || h.Kind != recordingKind {
				return nil, fmt.Errorf("%s:1: not a riftbridge liveclient recording header", path)
			}
			if h.Version != 1 {
				return nil, fmt.Errorf("%s:1: recording version %d; this riftbridge reads version 1", path, h.Version)
			}
			continue
		}
		if len(rec.Polls) == maxRecordingPolls {
			return nil, fmt.Errorf("%s:%d: over %d polls, not a recording of one game", path, line, maxRecordingPolls)
		}
		var l recordedLine
		if err := json.Unmarshal(text, &l); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		g, err := DecodeAllGameData(l.AllGameData)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		evs, err := DecodeEvents(l.EventData)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if n := len(rec.Polls); n > 0 && l.At.Before(rec.Polls[n-1].At) {
			return nil, fmt.Errorf("%s:%d: poll at %s comes before the previous one", path, line, l.At.Format(time.RFC3339Nano))
		}
		rec.Polls = append(rec.Polls, RecordedPoll{At: l.At, Game: g, Events: evs})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, line+1, err)
	}
	if len(rec.Polls) == 0 {
		return nil, fmt.Errorf("%s: a recording without a poll", path)
	}
	return rec, nil
}

// RecordWriter writes a recording, poll by poll.
type RecordWriter struct {
	w io.Writer
}

// NewRecordWriter writes the header of a recording of the API at address
// to w.
func NewRecordWriter(w io.Writer, address string) (*RecordWriter, error) {
	head, err := json.Marshal(recordingHeader{Kind: recordingKind, Version: 1, Address: address})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(append(head, '\n')); err != nil {
		return nil, err
	}
	return &RecordWriter{w: w}, nil
}

// Write appends one poll: the two answers as served at at.
func (rw *RecordWriter) Write(at time.Time, allGameData, eventData []byte) error {
	game, events := jsontext.Value(bytes.Clone(allGameData)), jsontext.Value(bytes.Clone(eventData))
	// The client pretty-prints; a line holds one poll.
	if err := game.Compact(); err != nil {
		return fmt.Errorf("allgamedata: %w", err)
	}
	if err := events.Compact(); err != nil {
		return fmt.Errorf("eventdata: %w", err)
	}
	line, err := json.Marshal(recordedLine{At: at.UTC(), AllGameData: game, EventData: events})
	if err != nil {
		return err
	}
	_, err = rw.w.Write(append(line, '\n'))
	return err
}
