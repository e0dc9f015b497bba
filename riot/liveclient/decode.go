package liveclient

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// MaxBody caps what the decoders accept. allgamedata, the largest document,
// is about 55 kB for ten players at 30 minutes; anything near the cap is not
// the game client talking.
const MaxBody = 4 << 20

// Sentinels for errors.Is. Every decoding error wraps one of them and says
// which endpoint's document failed.
var (
	// ErrTooLarge reports a body over MaxBody.
	ErrTooLarge = errors.New("body too large")
	// ErrMalformed reports a body that is not JSON, is cut short, or holds
	// a value of the wrong type.
	ErrMalformed = errors.New("malformed JSON")
	// ErrNotDocument reports JSON that is not the document asked for: an
	// empty body, an array where an object belongs, a required member
	// missing (an error body is one).
	ErrNotDocument = errors.New("not the expected document")
	// ErrNoActivePlayer reports an activeplayername answer without a name:
	// the {"error": …} object a spectator's client sends.
	ErrNoActivePlayer = errors.New("no active player")
)

// decodeError is one line: the endpoint, then what is wrong and where.
type decodeError struct {
	endpoint string
	kind     error // one of the sentinels
	msg      string
	cause    error // the JSON decoder's error, if any
}

func (e *decodeError) Error() string { return e.endpoint + ": " + e.msg }

func (e *decodeError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// DecodeAllGameData decodes GET /liveclientdata/allgamedata. A spectator's
// document decodes too: its ActivePlayer has only Err set.
func DecodeAllGameData(data []byte) (*AllGameData, error) {
	var g AllGameData
	if err := decode("allgamedata", data, '{', &g, "activePlayer", "allPlayers", "events", "gameData"); err != nil {
		return nil, err
	}
	return &g, nil
}

// DecodeEvents decodes GET /liveclientdata/eventdata, {"Events": […]}.
func DecodeEvents(data []byte) ([]Event, error) {
	var d EventData
	if err := decode("eventdata", data, '{', &d, "Events"); err != nil {
		return nil, err
	}
	return d.Events, nil
}

// DecodeActivePlayer decodes GET /liveclientdata/activeplayer. A spectator's
// {"error": …} is not an error: the result has Err set.
func DecodeActivePlayer(data []byte) (*ActivePlayer, error) {
	var a ActivePlayer
	if err := decode("activeplayer", data, '{', &a); err != nil {
		return nil, err
	}
	if a.Err == "" {
		if err := require("activeplayer", bytes.TrimPrefix(data, bom), "championStats"); err != nil {
			return nil, err
		}
	}
	return &a, nil
}

// DecodeActivePlayerName decodes GET /liveclientdata/activeplayername, a JSON
// string: the summoner name, or "GameName#TAG" on newer clients. A
// spectator's {"error": …} gives an error wrapping ErrNoActivePlayer.
func DecodeActivePlayerName(data []byte) (string, error) {
	const endpoint = "activeplayername"
	if body, _, err := prepare(endpoint, data); err == nil && firstByte(body) == '{' {
		var a ActivePlayer
		if err := decode(endpoint, data, '{', &a); err != nil {
			return "", err
		}
		if a.Err == "" {
			return "", &decodeError{endpoint: endpoint, kind: ErrNotDocument, msg: `top-level JSON is an object without "error", want a string`}
		}
		return "", &decodeError{endpoint: endpoint, kind: ErrNoActivePlayer, msg: "no active player: " + a.Err}
	}
	var name string
	if err := decode(endpoint, data, '"', &name); err != nil {
		return "", err
	}
	return name, nil
}

// DecodePlayerList decodes GET /liveclientdata/playerlist.
func DecodePlayerList(data []byte) ([]Player, error) {
	var ps []Player
	if err := decode("playerlist", data, '[', &ps); err != nil {
		return nil, err
	}
	return ps, nil
}

// DecodeGameStats decodes GET /liveclientdata/gamestats.
func DecodeGameStats(data []byte) (*GameStats, error) {
	var s GameStats
	if err := decode("gamestats", data, '{', &s, "gameTime"); err != nil {
		return nil, err
	}
	return &s, nil
}

// DecodeScores decodes GET /liveclientdata/playerscores.
func DecodeScores(data []byte) (*Scores, error) {
	var s Scores
	if err := decode("playerscores", data, '{', &s, "kills", "deaths", "assists"); err != nil {
		return nil, err
	}
	return &s, nil
}

// unmarshalOptions make the decoder as lenient as the client is sloppy:
// duplicate names and invalid UTF-8 (replaced by U+FFFD) are accepted,
// unknown members ignored, integers may be written 3.0 and booleans "True".
var unmarshalOptions = json.JoinOptions(
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
	json.WithUnmarshalers(json.JoinUnmarshalers(
		json.UnmarshalFromFunc(unmarshalInt),
		json.UnmarshalFromFunc(unmarshalBool),
	)),
)

var bom = []byte{0xEF, 0xBB, 0xBF}

// decode unmarshals the document of endpoint into v after checking its size
// and that its top-level value starts with want, then checks that the object
// has the required members, not null.
func decode(endpoint string, data []byte, want byte, v any, required ...string) error {
	body, skipped, err := prepare(endpoint, data)
	if err != nil {
		return err
	}
	if got := firstByte(body); got != want && kindOf(got) != "" {
		return &decodeError{endpoint: endpoint, kind: ErrNotDocument,
			msg: fmt.Sprintf("top-level JSON is %s, want %s", kindOf(got), kindOf(want))}
	}
	if err := json.Unmarshal(body, v, unmarshalOptions); err != nil {
		return jsonError(endpoint, skipped, err)
	}
	return require(endpoint, body, required...)
}

// prepare refuses oversized and empty bodies and drops a UTF-8 byte order
// mark, returning how many bytes it dropped so offsets still count from the
// start of what was received.
func prepare(endpoint string, data []byte) ([]byte, int64, error) {
	if len(data) > MaxBody {
		return nil, 0, &decodeError{endpoint: endpoint, kind: ErrTooLarge,
			msg: fmt.Sprintf("body of %d bytes is over the %d MiB cap", len(data), MaxBody>>20)}
	}
	var skipped int64
	if rest, ok := bytes.CutPrefix(data, bom); ok {
		data, skipped = rest, int64(len(bom))
	}
	if firstByte(data) == 0 {
		return nil, 0, &decodeError{endpoint: endpoint, kind: ErrNotDocument, msg: "empty body"}
	}
	return data, skipped, nil
}

// require reports the first of names that the object data lacks or holds
// as null. data has decoded once already, so it is a valid JSON object.
func require(endpoint string, data []byte, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	present := make(map[string]bool, len(names))
	dec := jsontext.NewDecoder(bytes.NewReader(data), unmarshalOptions)
	if _, err := dec.ReadToken(); err != nil {
		return jsonError(endpoint, 0, err)
	}
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return jsonError(endpoint, 0, err)
		}
		name := tok.String() // before PeekKind, which voids tok
		if dec.PeekKind() != 'n' {
			present[name] = true
		}
		if err := dec.SkipValue(); err != nil {
			return jsonError(endpoint, 0, err)
		}
	}
	for _, name := range names {
		if !present[name] {
			return &decodeError{endpoint: endpoint, kind: ErrNotDocument, msg: fmt.Sprintf("no %q member", name)}
		}
	}
	return nil
}

// jsonError turns the JSON decoder's error into one line with the byte
// offset (counted from the start of the body as received) and, for a value
// of the wrong type, its JSON pointer.
func jsonError(endpoint string, skipped int64, err error) error {
	e := &decodeError{endpoint: endpoint, kind: ErrMalformed, cause: err}
	if syn, ok := errors.AsType[*jsontext.SyntacticError](err); ok {
		what := "syntax error"
		switch {
		case errors.Is(syn.Err, io.ErrUnexpectedEOF):
			what = "unexpected end of input"
		case syn.Err != nil:
			what = syn.Err.Error()
		}
		e.msg = fmt.Sprintf("invalid JSON at byte %d: %s", syn.ByteOffset+skipped, what)
		return e
	}
	if sem, ok := errors.AsType[*json.SemanticError](err); ok {
		where := fmt.Sprintf("at byte %d", sem.ByteOffset+skipped)
		if sem.JSONPointer != "" {
			where += " (" + string(sem.JSONPointer) + ")"
		}
		what := "cannot unmarshal JSON " + sem.JSONKind.String()
		if sem.GoType != nil {
			what += " into " + sem.GoType.String()
		}
		if sem.Err != nil {
			what = sem.Err.Error()
		}
		e.msg = "invalid value " + where + ": " + what
		return e
	}
	e.msg = err.Error()
	return e
}

// unmarshalInt accepts integral floats (3.0, 1e2), which the client writes
// for some integer fields, and refuses fractions rather than truncate them.
func unmarshalInt(dec *jsontext.Decoder, v *int) error {
	val, err := dec.ReadValue()
	if err != nil {
		return err
	}
	switch val.Kind() {
	case 'n':
		*v = 0
		return nil
	case '0':
	default:
		return fmt.Errorf("want an integer, got %s", kindOf(byte(val.Kind())))
	}
	if n, err := strconv.ParseInt(string(val), 10, 0); err == nil {
		*v = int(n)
		return nil
	}
	f, err := strconv.ParseFloat(string(val), 64)
	// ±2⁶³ are exact as floats; int(f) is defined strictly between them.
	if err != nil || f != math.Trunc(f) || f <= math.MinInt64 || f >= math.MaxInt64 {
		return fmt.Errorf("want an integer, got %s", short(val))
	}
	*v = int(f)
	return nil
}

// unmarshalBool also accepts the strings "True" and "False", in which the
// client writes Stolen.
func unmarshalBool(dec *jsontext.Decoder, v *bool) error {
	val, err := dec.ReadValue()
	if err != nil {
		return err
	}
	switch val.Kind() {
	case 'n', 'f':
		*v = false
		return nil
	case 't':
		*v = true
		return nil
	case '"':
		s, err := jsontext.AppendUnquote(nil, val)
		if err == nil && strings.EqualFold(string(s), "true") {
			*v = true
			return nil
		}
		if err == nil && strings.EqualFold(string(s), "false") {
			*v = false
			return nil
		}
		return fmt.Errorf(`want a boolean or "True" or "False", got %s`, short(val))
	}
	return fmt.Errorf("want a boolean, got %s", kindOf(byte(val.Kind())))
}

// short quotes at most 40 bytes of a JSON value for an error message.
func short(val jsontext.Value) string {
	const n = 40
	if len(val) <= n {
		return string(val)
	}
	return string(val[:n]) + "…"
}

// firstByte returns the first non-space byte of data, or 0 if there is none.
func firstByte(data []byte) byte {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 {
		return t[0]
	}
	return 0
}

// kindOf names the JSON value that starts with b, or "" if none can.
func kindOf(b byte) string {
	switch {
	case b == '{':
		return "an object"
	case b == '[':
		return "an array"
	case b == '"':
		return "a string"
	case b == 't' || b == 'f':
		return "a boolean"
	case b == 'n':
		return "null"
	case b == '-' || b == '0' || '1' <= b && b <= '9':
		return "a number"
	}
	return ""
}
