package dashboards

import (
	"fmt"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadog"
	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"
)

// line is one query of a widget with its legend alias.
type line struct {
	query string
	alias string
}

// formulaRequest builds the formula-and-function form of a request: one
// metric query per line, each drawn as its own formula.
func formulaRequest(lines []line) ([]datadogV1.FormulaAndFunctionQueryDefinition, []datadogV1.WidgetFormula) {
	queries := make([]datadogV1.FormulaAndFunctionQueryDefinition, 0, len(lines))
	formulas := make([]datadogV1.WidgetFormula, 0, len(lines))
	for i, l := range lines {
		name := fmt.Sprintf("query%d", i+1)
		queries = append(queries, datadogV1.FormulaAndFunctionMetricQueryDefinitionAsFormulaAndFunctionQueryDefinition(
			&datadogV1.FormulaAndFunctionMetricQueryDefinition{
				DataSource: datadogV1.FORMULAANDFUNCTIONMETRICDATASOURCE_METRICS,
				Name:       name,
				Query:      l.query,
			}))
		f := datadogV1.WidgetFormula{Formula: name}
		if l.alias != "" {
			f.Alias = datadog.PtrString(l.alias)
		}
		formulas = append(formulas, f)
	}
	return queries, formulas
}

// timeseries draws lines over time; events overlay matching Datadog events.
func timeseries(title string, display datadogV1.WidgetDisplayType, events []string, lines ...line) datadogV1.Widget {
	queries, formulas := formulaRequest(lines)
	def := &datadogV1.TimeseriesWidgetDefinition{
		Type:       datadogV1.TIMESERIESWIDGETDEFINITIONTYPE_TIMESERIES,
		Title:      datadog.PtrString(title),
		ShowLegend: datadog.PtrBool(true),
		Requests: []datadogV1.TimeseriesWidgetRequest{{
			ResponseFormat: datadogV1.FORMULAANDFUNCTIONRESPONSEFORMAT_TIMESERIES.Ptr(),
			Queries:        queries,
			Formulas:       formulas,
			DisplayType:    display.Ptr(),
		}},
	}
	for _, q := range events {
		def.Events = append(def.Events, datadogV1.WidgetEvent{Q: q})
	}
	return datadogV1.Widget{Definition: datadogV1.TimeseriesWidgetDefinitionAsWidgetDefinition(def)}
}

// queryValue shows the latest value of one query.
func queryValue(title string, l line) datadogV1.Widget {
	queries, formulas := formulaRequest([]line{l})
	return datadogV1.Widget{Definition: datadogV1.QueryValueWidgetDefinitionAsWidgetDefinition(&datadogV1.QueryValueWidgetDefinition{
		Type:  datadogV1.QUERYVALUEWIDGETDEFINITIONTYPE_QUERY_VALUE,
		Title: datadog.PtrString(title),
		Requests: []datadogV1.QueryValueWidgetRequest{{
			ResponseFormat: datadogV1.FORMULAANDFUNCTIONRESPONSEFORMAT_SCALAR.Ptr(),
			Queries:        queries,
			Formulas:       formulas,
		}},
	})}
}

// checkStatus shows a service check's status across the scoped hosts.
func checkStatus(title, check string, tags []string) datadogV1.Widget {
	if len(tags) == 0 {
		tags = []string{"*"}
	}
	return datadogV1.Widget{Definition: datadogV1.CheckStatusWidgetDefinitionAsWidgetDefinition(&datadogV1.CheckStatusWidgetDefinition{
		Type:     datadogV1.CHECKSTATUSWIDGETDEFINITIONTYPE_CHECK_STATUS,
		Title:    datadog.PtrString(title),
		Check:    check,
		Grouping: datadogV1.WIDGETGROUPING_CLUSTER,
		Tags:     tags,
	})}
}

// group gathers widgets under a title.
func group(title string, widgets ...datadogV1.Widget) datadogV1.Widget {
	return datadogV1.Widget{Definition: datadogV1.GroupWidgetDefinitionAsWidgetDefinition(&datadogV1.GroupWidgetDefinition{
		Type:       datadogV1.GROUPWIDGETDEFINITIONTYPE_GROUP,
		LayoutType: datadogV1.WIDGETLAYOUTTYPE_ORDERED,
		Title:      datadog.PtrString(title),
		Widgets:    widgets,
	})}
}

// dashboard wraps widgets into an ordered, auto-reflowing dashboard with one
// template variable per tag key in vars.
func dashboard(title, description string, vars []string, widgets ...datadogV1.Widget) datadogV1.Dashboard {
	d := datadogV1.Dashboard{
		Title:       title,
		Description: *datadog.NewNullableString(datadog.PtrString(description)),
		LayoutType:  datadogV1.DASHBOARDLAYOUTTYPE_ORDERED,
		ReflowType:  datadogV1.DASHBOARDREFLOWTYPE_AUTO.Ptr(),
		Widgets:     widgets,
	}
	for _, v := range vars {
		d.TemplateVariables = append(d.TemplateVariables, datadogV1.DashboardTemplateVariable{
			Name:     v,
			Prefix:   *datadog.NewNullableString(datadog.PtrString(v)),
			Defaults: []string{"*"},
		})
	}
	return d
}
