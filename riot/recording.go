package riot

import (
	"errors"
	"fmt"
	"io"
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

// MaxFile caps a recorded file: a timeline is about 1.5 MB, so anything
// this large is not one, and reading it whole would cost its size in memory.
const MaxFile = 64 << 20

// readFile reads a regular file of at most MaxFile bytes, leaving the path
// out of the error because the *InputError already names it. Devices, FIFOs
// and directories are refused before they are opened: /dev/zero never ends.
func readFile(file string) ([]byte, error) {
	fi, err := os.Stat(file)
	if err != nil {
		if pe, ok := errors.AsType[*fs.PathError](err); ok {
			err = pe.Err
		}
		return nil, inputErr(file, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, inputErr(file, fmt.Errorf("not a regular file (%s): riftbridge replays files", fileKind(fi.Mode())))
	}
	if fi.Size() > MaxFile {
		return nil, inputErr(file, fmt.Errorf("%d bytes, more than the %d MiB riftbridge reads: no match-v5 document is that large", fi.Size(), MaxFile>>20))
	}
	f, err := os.Open(file)
	if err != nil {
		if pe, ok := errors.AsType[*fs.PathError](err); ok {
			err = pe.Err
		}
		return nil, inputErr(file, err)
	}
	defer f.Close()
	// Bounded even if the file grows while it is read.
	data, err := io.ReadAll(io.LimitReader(f, MaxFile+1))
	if err != nil {
		return nil, inputErr(file, err)
	}
	if len(data) > MaxFile {
		return nil, inputErr(file, fmt.Errorf("more than the %d MiB riftbridge reads", MaxFile>>20))
	}
	return data, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}

// Name identifies the recording in errors: its match id, else its first file.
func (r *Recording) Name() string {
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
