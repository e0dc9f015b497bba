package ddtest

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/riftbridge/riftbridge/dashboards/downtime"
)

func (s *Server) listDowntimes(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	all := slices.Clone(s.downtimes)
	s.mu.Unlock()
	got, err := page(all, r, "page[offset]", "page[limit]")
	if err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return
	}
	s.writeDowntimes(w, got, len(all))
}

func (s *Server) createDowntime(w http.ResponseWriter, r *http.Request) {
	a, err := downtime.DecodeRequest(bodyOf(r), "")
	if err == nil {
		err = a.ValidateCreate()
	}
	if err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	d := downtime.Downtime{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", s.newID()), Status: downtime.StatusScheduled, Attributes: a}
	s.downtimes = append(s.downtimes, d)
	s.mu.Unlock()
	s.writeDowntime(w, d)
}

func (s *Server) updateDowntime(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, err := downtime.DecodeRequest(bodyOf(r), id)
	if err == nil {
		err = a.ValidateUpdate()
	}
	if err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	i := s.downtimeIndex(id)
	if i < 0 {
		s.mu.Unlock()
		writeErrors(w, http.StatusNotFound, "Downtime not found")
		return
	}
	d := &s.downtimes[i]
	if a.Scope != "" {
		d.Attributes.Scope = a.Scope
	}
	if a.MonitorIdentifier != nil {
		d.Attributes.MonitorIdentifier = a.MonitorIdentifier
	}
	if a.Schedule != nil {
		d.Attributes.Schedule = a.Schedule
	}
	if a.Message != "" {
		d.Attributes.Message = a.Message
	}
	if a.DisplayTimezone != "" {
		d.Attributes.DisplayTimezone = a.DisplayTimezone
	}
	if a.MuteFirstRecoveryNotification != nil {
		d.Attributes.MuteFirstRecoveryNotification = a.MuteFirstRecoveryNotification
	}
	updated := *d
	s.mu.Unlock()
	s.writeDowntime(w, updated)
}

func (s *Server) cancelDowntime(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := s.downtimeIndex(r.PathValue("id"))
	if i >= 0 {
		s.downtimes[i].Status = downtime.StatusCanceled
	}
	s.mu.Unlock()
	if i < 0 {
		writeErrors(w, http.StatusNotFound, "Downtime not found")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// downtimeIndex finds a downtime by id, under s.mu; -1 when absent.
func (s *Server) downtimeIndex(id string) int {
	return slices.IndexFunc(s.downtimes, func(d downtime.Downtime) bool { return d.ID == id })
}

func (s *Server) writeDowntime(w http.ResponseWriter, d downtime.Downtime) {
	body, err := downtime.ResponseBody(d)
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeRaw(w, http.StatusOK, body)
}

func (s *Server) writeDowntimes(w http.ResponseWriter, ds []downtime.Downtime, total int) {
	body, err := downtime.ListBody(ds, total)
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeRaw(w, http.StatusOK, body)
}
