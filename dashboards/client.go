package dashboards

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadog"
	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"

	"github.com/riftbridge/riftbridge/bridge/telemetry"
	"github.com/riftbridge/riftbridge/dashboards/downtime"
)

// The API calls push makes, as the official client (dashboards, monitors)
// and the small downtime client provide them.
type (
	dashboardsAPI interface {
		ListDashboards(ctx context.Context, o ...datadogV1.ListDashboardsOptionalParameters) (datadogV1.DashboardSummary, *http.Response, error)
		GetDashboard(ctx context.Context, id string) (datadogV1.Dashboard, *http.Response, error)
		CreateDashboard(ctx context.Context, body datadogV1.Dashboard) (datadogV1.Dashboard, *http.Response, error)
		UpdateDashboard(ctx context.Context, id string, body datadogV1.Dashboard) (datadogV1.Dashboard, *http.Response, error)
	}
	monitorsAPI interface {
		ListMonitors(ctx context.Context, o ...datadogV1.ListMonitorsOptionalParameters) ([]datadogV1.Monitor, *http.Response, error)
		CreateMonitor(ctx context.Context, body datadogV1.Monitor) (datadogV1.Monitor, *http.Response, error)
		UpdateMonitor(ctx context.Context, id int64, body datadogV1.MonitorUpdateRequest) (datadogV1.Monitor, *http.Response, error)
	}
	downtimesAPI interface {
		List(ctx context.Context) ([]downtime.Downtime, error)
		Create(ctx context.Context, a downtime.Attributes) (downtime.Downtime, error)
		Update(ctx context.Context, id string, a downtime.Attributes) (downtime.Downtime, error)
		Cancel(ctx context.Context, id string) error
	}
)

var (
	_ dashboardsAPI = (*datadogV1.DashboardsApi)(nil)
	_ monitorsAPI   = (*datadogV1.MonitorsApi)(nil)
	_ downtimesAPI  = (*downtime.Client)(nil)
)

// sites maps each accepted DD_SITE value to its site host.
var sites = map[string]string{
	"datadoghq.com": "datadoghq.com", "us1": "datadoghq.com",
	"datadoghq.eu": "datadoghq.eu", "eu": "datadoghq.eu", "eu1": "datadoghq.eu",
	"us3": "us3.datadoghq.com", "us3.datadoghq.com": "us3.datadoghq.com",
	"us5": "us5.datadoghq.com", "us5.datadoghq.com": "us5.datadoghq.com",
	"ap1": "ap1.datadoghq.com", "ap1.datadoghq.com": "ap1.datadoghq.com",
	"ap2": "ap2.datadoghq.com", "ap2.datadoghq.com": "ap2.datadoghq.com",
	"ddog-gov": "ddog-gov.com", "ddog-gov.com": "ddog-gov.com",
}

// ErrForbidden is Datadog refusing the keys.
var ErrForbidden = errors.New("403 Forbidden: check DD_API_KEY, DD_APP_KEY and DD_SITE")

// ClientOption configures a Client.
type ClientOption func(*clientOptions)

type clientOptions struct {
	site, apiURL string
	hc           *http.Client
}

// WithSite pushes to a Datadog site, as DD_SITE names it: datadoghq.com
// (the default), datadoghq.eu, us3, us5, ap1, ap2, ddog-gov, or the full
// site host.
func WithSite(site string) ClientOption { return func(o *clientOptions) { o.site = site } }

// WithAPIURL replaces the site's API address, for proxies and tests.
func WithAPIURL(u string) ClientOption { return func(o *clientOptions) { o.apiURL = u } }

// WithHTTPClient sets the client that makes the requests. Default: one
// with a 30 s timeout.
func WithHTTPClient(hc *http.Client) ClientOption { return func(o *clientOptions) { o.hc = hc } }

// Client reads and writes riftbridge's objects in one Datadog organisation.
type Client struct {
	keys       map[string]datadog.APIKey
	siteVars   map[string]string
	dashboards dashboardsAPI
	monitors   monitorsAPI
	downtimes  downtimesAPI
	log        *slog.Logger
}

// NewClient returns a client authenticated by the API and application
// keys (DD_API_KEY, DD_APP_KEY), logging a debug line per change to set's
// logger; it makes no request.
func NewClient(apiKey, appKey string, set telemetry.Settings, opts ...ClientOption) (*Client, error) {
	if apiKey == "" || appKey == "" {
		return nil, errors.New("DD_API_KEY and DD_APP_KEY must both be set")
	}
	o := clientOptions{hc: &http.Client{Timeout: 30 * time.Second}}
	for _, opt := range opts {
		opt(&o)
	}
	hc := o.hc
	log := set.Defaults().Logger
	cfg := datadog.NewConfiguration()
	cfg.HTTPClient = hc
	c := &Client{
		keys: map[string]datadog.APIKey{"apiKeyAuth": {Key: apiKey}, "appKeyAuth": {Key: appKey}},
		log:  log,
	}
	var base string
	if o.apiURL != "" {
		u, err := url.Parse(o.apiURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("api url %q is not an http(s) URL", o.apiURL)
		}
		base = strings.TrimSuffix(u.String(), "/")
		cfg.Servers = datadog.ServerConfigurations{{URL: base}}
	} else {
		site := sites["datadoghq.com"]
		if o.site != "" {
			var ok bool
			if site, ok = sites[o.site]; !ok {
				return nil, fmt.Errorf("DD_SITE %q is not a Datadog site (datadoghq.com, datadoghq.eu, us3, us5, ap1, ap2, ddog-gov)", o.site)
			}
		}
		base = "https://api." + site
		c.siteVars = map[string]string{"site": site}
	}
	api := datadog.NewAPIClient(cfg)
	c.dashboards = datadogV1.NewDashboardsApi(api)
	c.monitors = datadogV1.NewMonitorsApi(api)
	c.downtimes = downtime.NewClient(base, apiKey, appKey, hc)
	return c, nil
}

// auth returns ctx with what the official client reads its keys and site from.
func (c *Client) auth(ctx context.Context) context.Context {
	ctx = context.WithValue(ctx, datadog.ContextAPIKeys, c.keys)
	if c.siteVars != nil {
		ctx = context.WithValue(ctx, datadog.ContextServerVariables, c.siteVars)
	}
	return ctx
}

// requestError turns a failed call into one line naming the operation, the
// request and Datadog's reason; keys never appear in it.
func requestError(op string, resp *http.Response, err error) error {
	var dt *downtime.APIError
	var oe datadog.GenericOpenAPIError
	switch {
	case errors.As(err, &dt):
		return statusError(op, dt.Method, dt.Path, dt.StatusCode, dt.Errors)
	case resp != nil && resp.StatusCode >= 300 && resp.Request != nil:
		var msgs []string
		if errors.As(err, &oe) {
			msgs = downtime.ErrorMessages(oe.Body())
		}
		return statusError(op, resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, msgs)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

func statusError(op, method, path string, code int, msgs []string) error {
	if code == http.StatusForbidden || code == http.StatusUnauthorized {
		return fmt.Errorf("%s: %s %s: %w", op, method, path, ErrForbidden)
	}
	msg := fmt.Sprintf("%d %s", code, http.StatusText(code))
	if msgs = slices.DeleteFunc(msgs, func(s string) bool { return s == "" }); len(msgs) > 0 {
		msg += ": " + strings.Join(msgs, "; ")
	}
	return fmt.Errorf("%s: %s %s: %s", op, method, path, strings.ReplaceAll(msg, "\n", " "))
}
