package ddtest

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"
)

var (
	// queryThreshold is the comparison closing a metric monitor query.
	queryThreshold = regexp.MustCompile(`(>=|<=|>|<)\s*(-?[0-9]+(?:\.[0-9]+)?)\s*$`)
	// queryWindow is the evaluation window of a metric monitor query.
	queryWindow = regexp.MustCompile(`^\w+\(last_([0-9]+)([mhd])\):`)
)

func (s *Server) listMonitors(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var tags []string
	if v := q.Get("monitor_tags"); v != "" {
		tags = strings.Split(v, ",")
	}
	name := strings.ToLower(q.Get("name"))
	s.mu.Lock()
	var out []datadogV1.Monitor
	for _, m := range s.monitors {
		if containsAll(m.Tags, tags) && strings.Contains(strings.ToLower(m.GetName()), name) {
			out = append(out, m)
		}
	}
	s.mu.Unlock()
	// Monitors page by page number: offset = page × page_size.
	if size, err := strconv.Atoi(q.Get("page_size")); err == nil && size > 0 {
		n, _ := strconv.Atoi(q.Get("page"))
		out = out[min(n*size, len(out)):min((n+1)*size, len(out))]
	}
	if out == nil {
		out = []datadogV1.Monitor{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createMonitor(w http.ResponseWriter, r *http.Request) {
	var m datadogV1.Monitor
	if err := decodeStrict(bodyOf(r), &m); err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := checkMonitor(m); err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	id := int64(s.newID())
	m.Id = &id
	m.Created, m.Modified = &s.now, &s.now
	m.OverallState = ptr(datadogV1.MONITOROVERALLSTATES_NO_DATA)
	fillOptionDefaults(&m)
	s.monitors = append(s.monitors, m)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) getMonitor(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := s.monitorIndex(r.PathValue("id"))
	var m datadogV1.Monitor
	if i >= 0 {
		m = s.monitors[i]
	}
	s.mu.Unlock()
	if i < 0 {
		writeErrors(w, http.StatusNotFound, "Monitor not found")
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) updateMonitor(w http.ResponseWriter, r *http.Request) {
	var u datadogV1.MonitorUpdateRequest
	if err := decodeStrict(bodyOf(r), &u); err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.monitorIndex(r.PathValue("id"))
	if i < 0 {
		writeErrors(w, http.StatusNotFound, "Monitor not found")
		return
	}
	m := s.monitors[i]
	if u.Type != nil && *u.Type != m.Type {
		writeErrors(w, http.StatusBadRequest, fmt.Sprintf("The monitor type cannot be changed from %q to %q", m.Type, *u.Type))
		return
	}
	if u.Name != nil {
		m.Name = u.Name
	}
	if u.Message != nil {
		m.Message = u.Message
	}
	if u.Query != nil {
		m.Query = *u.Query
	}
	if u.Options != nil {
		m.Options = u.Options
	}
	if u.Tags != nil {
		m.Tags = u.Tags
	}
	if u.Priority.IsSet() {
		m.Priority = u.Priority
	}
	if err := checkMonitor(m); err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return
	}
	m.Modified = &s.now
	fillOptionDefaults(&m)
	s.monitors[i] = m
	writeJSON(w, http.StatusOK, m)
}

// monitorIndex finds a monitor by id, under s.mu; -1 when absent.
func (s *Server) monitorIndex(id string) int {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return -1
	}
	return slices.IndexFunc(s.monitors, func(m datadogV1.Monitor) bool { return m.GetId() == n })
}

// checkMonitor applies the rules Datadog enforces on the monitors riftbridge
// writes, with Datadog's wording where it is known.
func checkMonitor(m datadogV1.Monitor) error {
	if m.GetName() == "" {
		return fmt.Errorf("name: required")
	}
	if m.Query == "" {
		return fmt.Errorf("query: required")
	}
	opts := m.GetOptions()
	th := opts.Thresholds
	switch m.Type {
	case datadogV1.MONITORTYPE_METRIC_ALERT, datadogV1.MONITORTYPE_QUERY_ALERT:
		match := queryThreshold.FindStringSubmatch(m.Query)
		if match == nil {
			return fmt.Errorf("The value provided for parameter 'query' is invalid: no threshold comparison")
		}
		want, _ := strconv.ParseFloat(match[2], 64)
		if th == nil || th.Critical == nil {
			return fmt.Errorf("The value provided for parameter 'options' is invalid: thresholds.critical is required")
		}
		if *th.Critical != want {
			return fmt.Errorf("Alert threshold (%v) does not match that used in the query (%v).", *th.Critical, want)
		}
		if warn, ok := th.GetWarningOk(); ok && warn != nil {
			above := strings.HasPrefix(match[1], ">")
			if above && *warn >= want || !above && *warn <= want {
				return fmt.Errorf("Warning threshold (%v) must be less severe than the alert threshold (%v).", *warn, want)
			}
		}
		if err := checkNoDataTimeframe(m); err != nil {
			return err
		}
	case datadogV1.MONITORTYPE_SERVICE_CHECK:
		if !strings.HasSuffix(m.Query, ".count_by_status()") {
			return fmt.Errorf("The value provided for parameter 'query' is invalid: a service check query ends with .count_by_status()")
		}
	default:
		return fmt.Errorf("ddtest does not model monitors of type %q", m.Type)
	}
	return nil
}

// checkNoDataTimeframe enforces Datadog's minimum: twice the evaluation window.
func checkNoDataTimeframe(m datadogV1.Monitor) error {
	opts := m.GetOptions()
	tf, ok := opts.GetNoDataTimeframeOk()
	window := queryWindow.FindStringSubmatch(m.Query)
	if !ok || tf == nil || window == nil {
		return nil
	}
	n, _ := strconv.Atoi(window[1])
	minutes := map[string]int{"m": 1, "h": 60, "d": 1440}[window[2]] * n
	if int(*tf) < 2*minutes {
		return fmt.Errorf("no_data_timeframe (%d) must be at least twice the evaluation window (%d minutes)", *tf, minutes)
	}
	return nil
}

// fillOptionDefaults adds fields Datadog returns although nobody sent them.
func fillOptionDefaults(m *datadogV1.Monitor) {
	if m.Options == nil {
		m.Options = &datadogV1.MonitorOptions{}
	}
	if m.Options.NotifyAudit == nil {
		m.Options.NotifyAudit = ptr(false)
	}
	if m.Options.Silenced == nil {
		m.Options.Silenced = map[string]int64{}
	}
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
