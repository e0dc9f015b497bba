package ddtest

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"
)

func (s *Server) listDashboards(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	summaries := make([]datadogV1.DashboardSummaryDefinition, 0, len(s.dashboards))
	for _, d := range s.dashboards {
		summaries = append(summaries, datadogV1.DashboardSummaryDefinition{
			Id: d.Id, Title: &d.Title, Description: d.Description, LayoutType: &d.LayoutType,
			Url: d.Url, AuthorHandle: d.AuthorHandle, CreatedAt: d.CreatedAt, ModifiedAt: d.ModifiedAt,
		})
	}
	s.mu.Unlock()
	summaries, err := page(summaries, r, "start", "count")
	if err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, datadogV1.DashboardSummary{Dashboards: summaries})
}

func (s *Server) createDashboard(w http.ResponseWriter, r *http.Request) {
	d, ok := s.decodeDashboard(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	n := s.newID()
	id := fmt.Sprintf("rb%d-tst-dsh", n)
	d.Id = &id
	d.Url = ptr(fmt.Sprintf("/dashboard/%s/%s", id, slug(d.Title)))
	d.AuthorHandle = ptr("ddtest@example.com")
	d.CreatedAt, d.ModifiedAt = &s.now, &s.now
	s.assignWidgetIDs(d.Widgets)
	s.dashboards = append(s.dashboards, d)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) getDashboard(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := s.dashboardIndex(r.PathValue("id"))
	var d datadogV1.Dashboard
	if i >= 0 {
		d = s.dashboards[i]
	}
	s.mu.Unlock()
	if i < 0 {
		writeErrors(w, http.StatusNotFound, "Dashboard not found")
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) updateDashboard(w http.ResponseWriter, r *http.Request) {
	d, ok := s.decodeDashboard(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.dashboardIndex(r.PathValue("id"))
	if i < 0 {
		writeErrors(w, http.StatusNotFound, "Dashboard not found")
		return
	}
	old := s.dashboards[i]
	d.Id, d.AuthorHandle, d.CreatedAt, d.ModifiedAt = old.Id, old.AuthorHandle, old.CreatedAt, &s.now
	d.Url = ptr(fmt.Sprintf("/dashboard/%s/%s", *old.Id, slug(d.Title)))
	s.assignWidgetIDs(d.Widgets)
	s.dashboards[i] = d
	writeJSON(w, http.StatusOK, d)
}

// decodeDashboard decodes and checks a dashboard body, answering 400 itself.
func (s *Server) decodeDashboard(w http.ResponseWriter, r *http.Request) (datadogV1.Dashboard, bool) {
	var d datadogV1.Dashboard
	if err := decodeStrict(bodyOf(r), &d); err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return d, false
	}
	// Datadog accepts only team ownership tags on dashboards.
	for _, tag := range d.GetTags() {
		if !strings.HasPrefix(tag, "team:") {
			writeErrors(w, http.StatusBadRequest, fmt.Sprintf("Invalid dashboard tag %q: only team:<name> tags are allowed", tag))
			return d, false
		}
	}
	if d.ReflowType != nil && d.LayoutType != datadogV1.DASHBOARDLAYOUTTYPE_ORDERED {
		writeErrors(w, http.StatusBadRequest, "reflow_type is only valid with layout_type ordered")
		return d, false
	}
	return d, true
}

// dashboardIndex finds a dashboard by id, under s.mu; -1 when absent.
func (s *Server) dashboardIndex(id string) int {
	for i, d := range s.dashboards {
		if d.GetId() == id {
			return i
		}
	}
	return -1
}

// assignWidgetIDs numbers widgets as Datadog does, groups included, under s.mu.
func (s *Server) assignWidgetIDs(ws []datadogV1.Widget) {
	for i := range ws {
		id := int64(s.newID())
		ws[i].Id = &id
		if g := ws[i].Definition.GroupWidgetDefinition; g != nil {
			s.assignWidgetIDs(g.Widgets)
		}
	}
}

func slug(title string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(title)), "-")
}

func ptr[T any](v T) *T { return &v }
