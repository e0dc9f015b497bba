package lctest

import (
	"net/http"
	"time"
)

// FaultKind is how a faulty answer goes wrong.
type FaultKind int

// The faults a Server can inject.
const (
	// Malformed answers the real body with its middle byte replaced by a
	// control character, which no JSON document may hold there.
	Malformed FaultKind = iota + 1
	// Truncated answers the first half of the real body, complete as far
	// as HTTP goes.
	Truncated
	// HTMLPage answers an HTML error page with Content-Type text/html.
	HTMLPage
	// ServerError answers 500 with the client's JSON error body.
	ServerError
	// Slow answers normally after Delay on the server's clock, or never if
	// the client gives up first. With a fake clock, wait for the request to
	// block (FakeClock.BlockUntilContext) and Advance it.
	Slow
)

// Fault makes the server answer the next Count requests to Endpoint badly.
type Fault struct {
	// Endpoint is the path after /liveclientdata/, e.g. "eventdata"; empty
	// matches every endpoint.
	Endpoint string
	Kind     FaultKind
	// Status overrides the HTTP status; 0 means 200, or 500 for ServerError.
	Status int
	// Delay is how long Slow waits.
	Delay time.Duration
	// Count is how many requests get the fault; 0 or less injects nothing.
	Count int
}

// Inject queues f. Faults are used in the order they were injected; a
// request takes the first queued fault that matches its endpoint. Faults
// apply in every phase, loading and post-game included, until the API
// vanishes.
func (s *Server) Inject(f Fault) {
	if f.Count <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// takeFault returns the fault for a request to endpoint and uses it up, or
// nil. The caller holds s.mu.
func (s *Server) takeFault(endpoint string) *Fault {
	for i, f := range s.faults {
		if f.Endpoint != "" && f.Endpoint != endpoint {
			continue
		}
		taken := *f
		if f.Count--; f.Count == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		s.stats.Faults++
		return &taken
	}
	return nil
}

const htmlPage = `<!DOCTYPE html>
<html><head><title>Error</title></head>
<body><h1>Something went wrong</h1><p>Please try again later.</p></body></html>
`

// spoil turns the real answer into f's faulty one. Slow faults are handled
// before the answer is made.
func spoil(f *Fault, rep reply) reply {
	switch f.Kind {
	case Malformed:
		body := append([]byte(nil), rep.body...)
		if len(body) > 0 {
			body[len(body)/2] = 0x01
		}
		rep.body = body
	case Truncated:
		rep.body = rep.body[:len(rep.body)/2]
	case HTMLPage:
		rep.contentType, rep.body = "text/html; charset=utf-8", []byte(htmlPage)
	case ServerError:
		rep = errorReply(http.StatusInternalServerError, "INTERNAL_ERROR", "Internal server error")
	}
	rep.status = http.StatusOK
	if f.Kind == ServerError {
		rep.status = http.StatusInternalServerError
	}
	if f.Status != 0 {
		rep.status = f.Status
	}
	return rep
}
