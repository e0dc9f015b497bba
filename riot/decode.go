package riot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
)

// Sentinel errors for inputs that are well-formed JSON but not usable. They
// arrive wrapped in an *InputError naming the file.
var (
	// ErrEmpty reports an input with nothing in it: an empty file or [].
	ErrEmpty = errors.New("no data")
	// ErrNoFrames reports a timeline without frames.
	ErrNoFrames = errors.New("timeline has no frames")
	// ErrAborted reports a game whose endOfGameResult is not GameComplete.
	// Such timelines can have frameInterval 0 and null participantFrames.
	ErrAborted = errors.New("game aborted")
	// ErrNotTimeline reports JSON that is neither a match-v5 timeline nor a
	// timeline fragment.
	ErrNotTimeline = errors.New("not a match-v5 timeline")
	// ErrNotMatch reports JSON that is not a match-v5 match.
	ErrNotMatch = errors.New("not a match-v5 match")
	// ErrMatchMismatch reports a match whose matchId differs from the timeline's.
	ErrMatchMismatch = errors.New("match does not belong to the timeline")
	// ErrWrongMatch reports a document Riot served for one match id that
	// names another.
	ErrWrongMatch = errors.New("riot served another match")
)

// unmarshal decodes with the JSON v2 decoder (github.com/go-json-experiment/json,
// the proposal becoming encoding/json/v2), which decodes the sample timeline
// in well under half encoding/json's time. When it fails, encoding/json
// decodes again from scratch: its answer stands, so error messages and byte
// offsets stay encoding/json's, and input only v2 rejects (duplicate keys,
// invalid UTF-8) is still accepted as before.
func unmarshal(data []byte, v any) error {
	if err := jsonv2.Unmarshal(data, v); err == nil {
		return nil
	}
	reflect.ValueOf(v).Elem().SetZero()
	return json.Unmarshal(data, v)
}

// gameComplete is the endOfGameResult of a game that was played out. Older
// data has no endOfGameResult at all, which counts as complete too.
const gameComplete = "GameComplete"

// InputError is a problem with one input file.
type InputError struct {
	File string
	// Offset is where encoding/json detected a JSON error, as a count of bytes
	// read (the end of the input when it is truncated); -1 for other errors.
	Offset int64
	Err    error
}

func (e *InputError) Error() string {
	if e.Offset < 0 {
		return e.File + ": " + e.Err.Error()
	}
	if syn, ok := errors.AsType[*json.SyntaxError](e.Err); ok {
		// Say "input" rather than "JSON input": the prefix already says JSON.
		msg := strings.Replace(syn.Error(), "JSON input", "input", 1)
		return fmt.Sprintf("%s: invalid JSON at byte %d: %s", e.File, e.Offset, msg)
	}
	if typ, ok := errors.AsType[*json.UnmarshalTypeError](e.Err); ok {
		into := typ.Field
		if into == "" {
			into = "top-level value"
		}
		return fmt.Sprintf("%s: invalid value at byte %d: cannot unmarshal %s into %s (%s)", e.File, e.Offset, typ.Value, into, typ.Type)
	}
	return fmt.Sprintf("%s: at byte %d: %v", e.File, e.Offset, e.Err)
}

func (e *InputError) Unwrap() error { return e.Err }

// inputErr wraps a non-JSON problem of file.
func inputErr(file string, err error) *InputError {
	return &InputError{File: file, Offset: -1, Err: err}
}

// jsonErr wraps an encoding/json error of file with its byte offset.
func jsonErr(file string, err error) *InputError {
	if syn, ok := errors.AsType[*json.SyntaxError](err); ok {
		return &InputError{File: file, Offset: syn.Offset, Err: err}
	}
	if typ, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return &InputError{File: file, Offset: typ.Offset, Err: err}
	}
	return inputErr(file, err)
}

// timelinePart is one decoded timeline input: exactly one of its fields is set.
type timelinePart struct {
	file              string
	timeline          *Timeline
	participantFrames map[int]ParticipantFrame
	events            []Event
}

// timelineDoc and matchDoc hold info as a pointer so that a missing info
// object is told apart from an empty one.
type timelineDoc struct {
	Metadata Metadata      `json:"metadata"`
	Info     *TimelineInfo `json:"info"`
}

type matchDoc struct {
	Metadata Metadata   `json:"metadata"`
	Info     *MatchInfo `json:"info"`
}

// kindProbe tells a match from a timeline by a field only one of them has.
// It runs only on inputs that already decoded but lack what the expected kind
// needs, so the second pass costs nothing on good input.
type kindProbe struct {
	Info struct {
		GameVersion present `json:"gameVersion"` // matches only
		Frames      present `json:"frames"`      // timelines only
	} `json:"info"`
}

// present records that a field occurred without decoding or copying its value.
type present bool

func (p *present) UnmarshalJSON([]byte) error {
	*p = true
	return nil
}

func probeKind(data []byte) kindProbe {
	var p kindProbe
	_ = json.Unmarshal(data, &p) // data has decoded once already, so it is valid JSON
	return p
}

func isMatch(data []byte) bool    { return bool(probeKind(data).Info.GameVersion) }
func isTimeline(data []byte) bool { return bool(probeKind(data).Info.Frames) }

// DecodeTimeline decodes one timeline input: a full match-v5 timeline, a bare
// participantFrames object keyed by participantId, or a bare events array.
// A fragment becomes a timeline of one frame. file names the input in errors.
func DecodeTimeline(data []byte, file string) (*Timeline, error) {
	part, err := decodeTimelinePart(data, file)
	if err != nil {
		return nil, err
	}
	return assembleTimeline([]timelinePart{part})
}

// decodeTimelinePart finds the shape of data from its first byte and, for an
// object, its first key, then decodes it once into the matching type.
func decodeTimelinePart(data []byte, file string) (timelinePart, error) {
	part := timelinePart{file: file}
	data, err := utf8JSON(data, file)
	if err != nil {
		return part, err
	}
	switch firstByte(data) {
	case 0:
		return part, inputErr(file, fmt.Errorf("%w: file is empty", ErrEmpty))
	case '[':
		if err := unmarshal(data, &part.events); err != nil {
			return part, jsonErr(file, err)
		}
		if len(part.events) == 0 {
			return part, inputErr(file, fmt.Errorf("%w: empty events array", ErrEmpty))
		}
		return part, nil
	case '{':
		if isParticipantID(firstKey(data)) {
			if err := unmarshal(data, &part.participantFrames); err != nil {
				return part, jsonErr(file, err)
			}
			return part, checkParticipantIDs(file, 0, part.participantFrames, maxParticipants)
		}
		tl, err := decodeTimelineDoc(data, file)
		part.timeline = tl
		return part, err
	default:
		return part, notObject(data, file, ErrNotTimeline, "an object or array")
	}
}

func decodeTimelineDoc(data []byte, file string) (*Timeline, error) {
	var doc timelineDoc
	if err := unmarshal(data, &doc); err != nil {
		return nil, jsonErr(file, err)
	}
	switch {
	case doc.Info == nil:
		return nil, inputErr(file, fmt.Errorf(`%w: no "info" object`, ErrNotTimeline))
	case doc.Info.Frames == nil && isMatch(data):
		return nil, inputErr(file, fmt.Errorf("%w: looks like a match-v5 match; pass it with --match", ErrNotTimeline))
	case aborted(doc.Info.EndOfGameResult):
		return nil, inputErr(file, fmt.Errorf("%w: endOfGameResult %q", ErrAborted, doc.Info.EndOfGameResult))
	case len(doc.Info.Frames) == 0:
		return nil, inputErr(file, ErrNoFrames)
	}
	if err := checkFrames(file, doc.Info); err != nil {
		return nil, err
	}
	return &Timeline{Metadata: doc.Metadata, Info: *doc.Info}, nil
}

// maxParticipants is the most players a game has: Arena's sixteen.
const maxParticipants = 16

// checkFrames refuses what the mapper would count wrong: frames whose times
// do not increase (a frame given twice would count its events twice), and
// participant frames of ids the timeline does not list, or outside 1–16
// when it lists none.
func checkFrames(file string, info *TimelineInfo) error {
	n := maxParticipants
	if len(info.Participants) > 0 {
		n = len(info.Participants)
	}
	for i := range info.Frames {
		f := &info.Frames[i]
		if i > 0 && f.Timestamp <= info.Frames[i-1].Timestamp {
			return inputErr(file, fmt.Errorf("frame %d at %d ms does not come after frame %d at %d ms: frames repeated or out of order",
				i, f.Timestamp, i-1, info.Frames[i-1].Timestamp))
		}
		if err := checkParticipantIDs(file, i, f.ParticipantFrames, n); err != nil {
			return err
		}
	}
	return nil
}

func checkParticipantIDs(file string, frame int, pfs map[int]ParticipantFrame, n int) error {
	for id := range pfs {
		if id < 1 || id > n {
			return inputErr(file, fmt.Errorf("frame %d: participantFrames holds participant %d; participant ids run from 1 to %d", frame, id, n))
		}
	}
	return nil
}

// utf8JSON returns data without a UTF-8 byte order mark, which JSON parsers
// may ignore and Windows editors write, and refuses UTF-16 and UTF-32, which
// the JSON decoder would misread byte by byte.
func utf8JSON(data []byte, file string) ([]byte, error) {
	if rest, ok := bytes.CutPrefix(data, []byte{0xEF, 0xBB, 0xBF}); ok {
		return rest, nil
	}
	// JSON starts with an ASCII character: in UTF-16 or UTF-32 one of the
	// first bytes is then zero; a BOM shows it too.
	wide := bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) ||
		len(data) >= 2 && (data[0] == 0 || data[1] == 0)
	if wide {
		return nil, inputErr(file, errors.New("the file is UTF-16 or UTF-32 text; save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8"))
	}
	return data, nil
}

// DecodeMatch decodes a match-v5 match. file names the input in errors.
func DecodeMatch(data []byte, file string) (*Match, error) {
	data, err := utf8JSON(data, file)
	if err != nil {
		return nil, err
	}
	switch firstByte(data) {
	case 0:
		return nil, inputErr(file, fmt.Errorf("%w: file is empty", ErrEmpty))
	case '{':
	default:
		return nil, notObject(data, file, ErrNotMatch, "an object")
	}
	var doc matchDoc
	if err := unmarshal(data, &doc); err != nil {
		return nil, jsonErr(file, err)
	}
	switch {
	case doc.Info == nil:
		return nil, inputErr(file, fmt.Errorf(`%w: no "info" object`, ErrNotMatch))
	case doc.Info.GameVersion == "" && isTimeline(data):
		return nil, inputErr(file, fmt.Errorf("%w: looks like a match-v5 timeline", ErrNotMatch))
	case aborted(doc.Info.EndOfGameResult):
		return nil, inputErr(file, fmt.Errorf("%w: endOfGameResult %q", ErrAborted, doc.Info.EndOfGameResult))
	}
	return &Match{Metadata: doc.Metadata, Info: *doc.Info}, nil
}

// assembleTimeline turns decoded parts into one timeline. A full timeline
// stands alone; fragments merge into a single frame, at most one of each kind.
func assembleTimeline(parts []timelinePart) (*Timeline, error) {
	var (
		frame          Frame
		pfFile, evFile string
	)
	for _, p := range parts {
		switch {
		case p.timeline != nil:
			if len(parts) > 1 {
				return nil, inputErr(p.file, errors.New("a full timeline cannot be combined with other files"))
			}
			return p.timeline, nil
		case p.participantFrames != nil:
			if pfFile != "" {
				return nil, inputErr(p.file, fmt.Errorf("cannot combine with %s: both hold participantFrames", pfFile))
			}
			pfFile, frame.ParticipantFrames = p.file, p.participantFrames
		default:
			if evFile != "" {
				return nil, inputErr(p.file, fmt.Errorf("cannot combine with %s: both hold events", evFile))
			}
			evFile, frame.Events = p.file, p.events
		}
	}
	frame.Timestamp = fragmentTimestamp(frame.Events)
	return &Timeline{Info: TimelineInfo{FrameInterval: frameInterval, Frames: []Frame{frame}}}, nil
}

// frameInterval is Riot's spacing of timeline frames in ms.
const frameInterval = 60000

// fragmentTimestamp places a fragment frame on the first frame boundary at or
// after its last event, since a frame holds the events of the interval before
// it. Without events there is nothing to place it by, so it sits at 0.
func fragmentTimestamp(events []Event) int64 {
	var last int64
	for _, e := range events {
		last = max(last, e.Timestamp)
	}
	n := last / frameInterval
	if last%frameInterval != 0 {
		n++
	}
	return n * frameInterval
}

func aborted(result string) bool {
	return result != "" && result != gameComplete
}

// firstByte returns the first non-space byte of data, or 0 if there is none.
func firstByte(data []byte) byte {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 {
		return t[0]
	}
	return 0
}

// firstKey returns the first key of the JSON object in data, or "" when there
// is none or the JSON is broken (the full decode then reports the error).
func firstKey(data []byte) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return ""
	}
	key, _ := dec.Token()
	s, _ := key.(string)
	return s
}

func isParticipantID(key string) bool {
	n, err := strconv.Atoi(key)
	return err == nil && n > 0
}

// notObject explains why data, which does not start with an accepted
// delimiter, cannot be decoded: a JSON error, or the kind of value it holds.
func notObject(data []byte, file string, sentinel error, want string) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return jsonErr(file, err)
	}
	var kind string
	switch v.(type) {
	case nil:
		kind = "null"
	case bool:
		kind = "a boolean"
	case float64:
		kind = "a number"
	case string:
		kind = "a string"
	case []any:
		kind = "an array"
	}
	return inputErr(file, fmt.Errorf("%w: top-level JSON is %s, want %s", sentinel, kind, want))
}
