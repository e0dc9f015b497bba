package riot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Recording is a timeline, and the match it belongs to when known, loaded
// from files.
type Recording struct {
	Timeline *Timeline
	Match    *Match // nil when unknown
	// Files are the inputs it was loaded from: timeline files, then the match.
	Files []string
}

// LoadRecording reads and decodes timelineFiles, either one full timeline or
// up to one participantFrames and one events fragment that together make a
// single frame, and matchFile unless it is "". Every error is an *InputError
// naming the file at fault.
func LoadRecording(timelineFiles []string, matchFile string) (*Recording, error) {
	if len(timelineFiles) == 0 {
		return nil, errors.New("load recording: no timeline file given")
	}
	parts := make([]timelinePart, 0, len(timelineFiles))
	for _, file := range timelineFiles {
		data, err := readFile(file)
		if err != nil {
			return nil, err
		}
		part, err := decodeTimelinePart(data, file)
		if err != nil {
			return nil, err
		}
		parts = append(parts, part)
	}
	tl, err := assembleTimeline(parts)
	if err != nil {
		return nil, err
	}
	rec := &Recording{Timeline: tl, Files: append([]string(nil), timelineFiles...)}
	if matchFile == "" {
		return rec, nil
	}
	data, err := readFile(matchFile)
	if err != nil {
		return nil, err
	}
	if rec.Match, err = DecodeMatch(data, matchFile); err != nil {
		return nil, err
	}
	// Fragments carry no matchId, so only a full timeline can be checked.
	if got, want := rec.Match.Metadata.MatchID, tl.Metadata.MatchID; want != "" && got != want {
		return nil, inputErr(matchFile, fmt.Errorf("%w: matchId %q, timeline %s has %q", ErrMatchMismatch, got, timelineFiles[0], want))
	}
	rec.Files = append(rec.Files, matchFile)
	return rec, nil
}

// readFile reads file, leaving the path out of the error because the
// *InputError already names it.
func readFile(file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		if pe, ok := errors.AsType[*fs.PathError](err); ok {
			err = pe.Err
		}
		return nil, inputErr(file, err)
	}
	return data, nil
}

// name identifies the recording in errors: its match id, else its first file.
func (r *Recording) name() string {
	if r.Match != nil && r.Match.Metadata.MatchID != "" {
		return r.Match.Metadata.MatchID
	}
	if id := r.Timeline.Metadata.MatchID; id != "" {
		return id
	}
	if len(r.Files) > 0 {
		return r.Files[0]
	}
	return "recording"
}
