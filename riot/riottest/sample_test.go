package riottest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The embedded copies must stay those of the repository's samples, and the
// constants those of the embedded match.
func TestSample(t *testing.T) {
	for file, embedded := range map[string][]byte{
		"KR_7014499581.match.json":    sampleMatchJSON,
		"KR_7014499581.timeline.json": sampleTimelineJSON,
	} {
		original, err := os.ReadFile(filepath.Join("..", "..", "samples", file))
		if err != nil {
			t.Fatalf("read sample: %v", err)
		}
		if !bytes.Equal(original, embedded) {
			t.Errorf("testdata/%s differs from samples/%s", file, file)
		}
	}
	sample, err := loadSampleGame()
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Duration(sample.Info.GameEndTimestamp-sample.Info.GameStartTimestamp) * time.Millisecond; d != sampleDuration {
		t.Errorf("sample lasts %v, sampleDuration is %v", d, sampleDuration)
	}
}
