package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadog"

	"github.com/riftbridge/riftbridge/dashboards/downtime"
)

// Export writes each object of s under dir as the JSON body of the request
// that creates it: dashboards/<slug>.json (POST /api/v1/dashboard),
// monitors/<slug>.json (POST /api/v1/monitor) and downtimes/<slug>.json
// (POST /api/v2/downtime). It returns the paths written.
func Export(dir string, s Set) ([]string, error) {
	type file struct {
		path string
		body func() ([]byte, error)
	}
	var files []file
	for _, d := range s.Dashboards {
		files = append(files, file{filepath.Join(dir, "dashboards", d.Slug+".json"), func() ([]byte, error) { return datadog.Marshal(d.Body) }})
	}
	for _, m := range s.Monitors {
		files = append(files, file{filepath.Join(dir, "monitors", m.Slug+".json"), func() ([]byte, error) { return datadog.Marshal(m.Body) }})
	}
	for _, d := range s.Downtimes {
		files = append(files, file{filepath.Join(dir, "downtimes", d.Slug+".json"), func() ([]byte, error) { return downtime.CreateBody(d.Body) }})
	}
	paths := make([]string, 0, len(files))
	for _, f := range files {
		raw, err := f.body()
		if err != nil {
			return paths, fmt.Errorf("encode %s: %w", f.path, err)
		}
		out, err := pretty(raw)
		if err != nil {
			return paths, fmt.Errorf("encode %s: %w", f.path, err)
		}
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return paths, fmt.Errorf("export: %w", err)
		}
		if err := os.WriteFile(f.path, out, 0o644); err != nil {
			return paths, fmt.Errorf("export: %w", err)
		}
		paths = append(paths, f.path)
	}
	return paths, nil
}

// pretty indents JSON with sorted keys and without the HTML escaping of
// encoding/json, so queries read "> 8000" rather than "\u003e 8000".
func pretty(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
