package downtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Path is the v2 downtime collection.
const Path = "/api/v2/downtime"

// pageLimit is how many downtimes one list request asks for.
const pageLimit = 100

// Client calls the v2 downtime endpoints of one Datadog site. It is safe for
// concurrent use.
type Client struct {
	base   string
	apiKey string
	appKey string
	http   *http.Client
}

// NewClient returns a client for the API at baseURL, e.g.
// "https://api.datadoghq.eu". A nil hc uses http.DefaultClient.
func NewClient(baseURL, apiKey, appKey string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimSuffix(baseURL, "/"), apiKey: apiKey, appKey: appKey, http: hc}
}

// APIError is a refused request. It never carries the keys.
type APIError struct {
	Method     string
	Path       string
	StatusCode int
	// Errors are the messages of the API's {"errors": [...]} body.
	Errors []string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Errors) > 0 {
		msg += ": " + strings.Join(e.Errors, "; ")
	}
	return msg
}

// List returns every downtime of the organisation, whatever its status.
func (c *Client) List(ctx context.Context) ([]Downtime, error) {
	var all []Downtime
	for offset := 0; ; {
		q := url.Values{"page[limit]": {strconv.Itoa(pageLimit)}, "page[offset]": {strconv.Itoa(offset)}}
		var page listEnvelope
		if err := c.do(ctx, http.MethodGet, Path, q, nil, &page); err != nil {
			return nil, err
		}
		for _, d := range page.Data {
			all = append(all, d.downtime())
		}
		offset += len(page.Data)
		if len(page.Data) < pageLimit || offset >= page.Meta.Page.TotalFilteredCount {
			return all, nil
		}
	}
}

// Create creates a downtime.
func (c *Client) Create(ctx context.Context, a Attributes) (Downtime, error) {
	body, err := CreateBody(a)
	if err != nil {
		return Downtime{}, fmt.Errorf("encode downtime: %w", err)
	}
	var env envelope
	if err := c.do(ctx, http.MethodPost, Path, nil, body, &env); err != nil {
		return Downtime{}, err
	}
	return env.Data.downtime(), nil
}

// Update patches downtime id with the fields set in a.
func (c *Client) Update(ctx context.Context, id string, a Attributes) (Downtime, error) {
	body, err := UpdateBody(id, a)
	if err != nil {
		return Downtime{}, fmt.Errorf("encode downtime %s: %w", id, err)
	}
	var env envelope
	if err := c.do(ctx, http.MethodPatch, Path+"/"+url.PathEscape(id), nil, body, &env); err != nil {
		return Downtime{}, err
	}
	return env.Data.downtime(), nil
}

// Cancel cancels downtime id.
func (c *Client) Cancel(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, Path+"/"+url.PathEscape(id), nil, nil, nil)
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, out any) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("DD-API-KEY", c.apiKey)
	req.Header.Set("DD-APPLICATION-KEY", c.appKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error carries the URL, never the headers.
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return &APIError{Method: method, Path: path, StatusCode: resp.StatusCode, Errors: ErrorMessages(raw)}
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// ErrorMessages reads the {"errors": [...]} body of a Datadog refusal, whose
// items are strings on most endpoints and JSON:API error objects on some.
func ErrorMessages(raw []byte) []string {
	var body struct {
		Errors []json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(raw, &body) != nil {
		return nil
	}
	var msgs []string
	for _, item := range body.Errors {
		var s string
		if json.Unmarshal(item, &s) == nil {
			msgs = append(msgs, s)
			continue
		}
		var obj struct {
			Title  string `json:"title"`
			Detail string `json:"detail"`
		}
		if json.Unmarshal(item, &obj) == nil {
			parts := slices.DeleteFunc([]string{obj.Title, obj.Detail}, func(s string) bool { return s == "" })
			msgs = append(msgs, strings.Join(parts, ": "))
		}
	}
	return msgs
}
