package webhook

import (
	"flag"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/providertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGolden pins the Alertmanager-compatible payloads of an ALARM with evidence and of its OK.
func TestGolden(t *testing.T) {
	firing := providertest.Alarm("ALARM", "OK", 2)
	for name, p := range map[string]Payload{
		"firing.golden.json":   Render(firing, "hook", "https://tw.example", time.Time{}),
		"resolved.golden.json": Render(providertest.Alarm("OK", "ALARM", 0), "hook", "https://tw.example", firing.StateChangeTime),
	} {
		b, err := notify.MarshalJSON(p)
		if err != nil {
			t.Fatal(err)
		}
		providertest.Golden(t, name, providertest.Indent(t, b), *update)
	}
}
