package riottest

// Fault makes the server answer the next Count matching requests with Status
// instead of serving them. Faults apply after rate limiting, the way a Riot
// backend fails behind the gateway: the request still counts against the
// limits and its response carries the rate-limit headers.
type Fault struct {
	// Endpoint restricts the fault to one endpoint; empty matches all.
	Endpoint Endpoint
	// Status is the HTTP status to send, e.g. 500, 503 or 429.
	Status int
	// LimitType is sent as X-Rate-Limit-Type on a 429; LimitUntyped sends
	// no such header.
	LimitType LimitType
	// RetryAfter is sent as Retry-After in seconds; 0 sends no header.
	RetryAfter int
	// Count is how many requests get the fault; 0 or less injects nothing.
	Count int
}

// Inject queues f. Faults are used in the order they were injected; a
// request takes the first queued fault that matches its endpoint.
func (s *Server) Inject(f Fault) {
	if f.Count <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// InjectStatus makes the next n requests to any endpoint return code. A 429
// injected this way is Riot's backend throttling: no X-Rate-Limit-Type and no
// Retry-After. Use Inject for a service 429 or a per-endpoint fault.
func (s *Server) InjectStatus(code, n int) {
	s.Inject(Fault{Status: code, Count: n})
}

// takeFault returns the fault for a request to ep and uses it up, or nil.
// The caller holds s.mu.
func (s *Server) takeFault(ep Endpoint) *Fault {
	for i, f := range s.faults {
		if f.Endpoint != "" && f.Endpoint != ep {
			continue
		}
		taken := *f
		if f.Count--; f.Count == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return &taken
	}
	return nil
}
