package lctest

import (
	"maps"
	"slices"
)

// Stats counts what the server saw. Stats() returns a copy.
type Stats struct {
	// Requests counts requests by path, e.g. "/liveclientdata/eventdata",
	// whatever their answer; requests after the API vanished never arrive.
	Requests map[string]int
	// EventIDs holds the eventID of every eventdata request in arrival
	// order, -1 for a request without a valid one; without one, a request
	// asks for every event.
	// A poller that follows the game asks with increasing ids and never
	// for events it already has.
	EventIDs []int
	// MaxEventID is the highest id in EventIDs; -1 when there is none.
	MaxEventID int
	// Faults counts injected faults served.
	Faults int
}

// Stats returns a copy of the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Requests = maps.Clone(s.stats.Requests)
	st.EventIDs = slices.Clone(s.stats.EventIDs)
	return st
}

// countEventID records the eventID an eventdata request asked for. The
// caller holds s.mu.
func (s *Server) countEventID(id int) {
	s.stats.EventIDs = append(s.stats.EventIDs, id)
	s.stats.MaxEventID = max(s.stats.MaxEventID, id)
}
