// Package ddtest is a Datadog-API-shaped test server for dashboards, monitors and v2 downtimes: it checks the keys, decodes every body strictly into the API's model types, assigns ids and records every request.
package ddtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"

	"github.com/riftbridge/riftbridge/dashboards/downtime"
)

// Request is one request the server received.
type Request struct {
	Method string
	// Path is the URL path, e.g. "/api/v1/monitor/3".
	Path string
	// Query is the raw query string.
	Query string
	Body  []byte
	// Status is the status code the server answered with.
	Status int
}

// Server is a running test server. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	apiKey, appKey string
	// now stamps created and modified times; fixed so responses are stable.
	now time.Time

	mu         sync.Mutex
	requests   []Request
	nextID     int
	dashboards []datadogV1.Dashboard
	monitors   []datadogV1.Monitor
	downtimes  []downtime.Downtime
}

// New starts a server that accepts only apiKey and appKey; it is closed when
// the test ends.
func New(t testing.TB, apiKey, appKey string) *Server {
	s := &Server{apiKey: apiKey, appKey: appKey, now: time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/dashboard", s.listDashboards)
	mux.HandleFunc("POST /api/v1/dashboard", s.createDashboard)
	mux.HandleFunc("GET /api/v1/dashboard/{id}", s.getDashboard)
	mux.HandleFunc("PUT /api/v1/dashboard/{id}", s.updateDashboard)
	mux.HandleFunc("GET /api/v1/monitor", s.listMonitors)
	mux.HandleFunc("POST /api/v1/monitor", s.createMonitor)
	mux.HandleFunc("GET /api/v1/monitor/{id}", s.getMonitor)
	mux.HandleFunc("PUT /api/v1/monitor/{id}", s.updateMonitor)
	mux.HandleFunc("GET "+downtime.Path, s.listDowntimes)
	mux.HandleFunc("POST "+downtime.Path, s.createDowntime)
	mux.HandleFunc("PATCH "+downtime.Path+"/{id}", s.updateDowntime)
	mux.HandleFunc("DELETE "+downtime.Path+"/{id}", s.cancelDowntime)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErrors(w, http.StatusNotFound, "Not found")
	})
	s.Server = httptest.NewServer(s.record(s.authorize(mux)))
	t.Cleanup(s.Close)
	return s
}

// Requests returns a copy of every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Writes returns the requests that were not reads (GET).
func (s *Server) Writes() []Request {
	return slices.DeleteFunc(s.Requests(), func(r Request) bool { return r.Method == http.MethodGet })
}

// Dashboards returns the stored dashboards in creation order.
func (s *Server) Dashboards() []datadogV1.Dashboard {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.dashboards)
}

// Monitors returns the stored monitors in creation order.
func (s *Server) Monitors() []datadogV1.Monitor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.monitors)
}

// Downtimes returns the stored downtimes, canceled ones included, in creation order.
func (s *Server) Downtimes() []downtime.Downtime {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.downtimes)
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeErrors(w, http.StatusBadRequest, "unreadable body")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body, Status: rec.status})
		s.mu.Unlock()
	})
}

// authorize answers 403 like Datadog when either key is missing or wrong.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("DD-API-KEY") != s.apiKey || r.Header.Get("DD-APPLICATION-KEY") != s.appKey {
			writeErrors(w, http.StatusForbidden, "Forbidden")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// newID returns the next sequence number, under s.mu.
func (s *Server) newID() int {
	s.nextID++
	return s.nextID
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeRaw(w, status, body)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeErrors answers in Datadog's error shape, {"errors": ["..."]}.
func writeErrors(w http.ResponseWriter, status int, msgs ...string) {
	body, _ := json.Marshal(map[string][]string{"errors": msgs})
	writeRaw(w, status, body)
}

// page slices items by the offset and limit query parameters; limit 0 is all.
func page[T any](items []T, r *http.Request, offsetParam, limitParam string) ([]T, error) {
	offset, limit := 0, 0
	for name, dst := range map[string]*int{offsetParam: &offset, limitParam: &limit} {
		if v := r.URL.Query().Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("invalid %s %q", name, v)
			}
			*dst = n
		}
	}
	if offset > len(items) {
		return nil, nil
	}
	items = items[offset:]
	if limit > 0 && limit < len(items) {
		items = items[:limit]
	}
	return items, nil
}

// bodyOf returns the request body, which record has already buffered.
func bodyOf(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body)
	return b
}
