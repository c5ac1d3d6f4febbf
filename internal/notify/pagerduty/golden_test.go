package pagerduty

import (
	"flag"
	"testing"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/providertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGolden pins the trigger and resolve events of an alarm.
func TestGolden(t *testing.T) {
	for name, a := range map[string]alert.Alert{
		"trigger.golden.json": providertest.Alarm("ALARM", "OK", 2),
		"resolve.golden.json": providertest.Alarm("OK", "ALARM", 0),
	} {
		ev, _ := Render(a, key, "")
		b, err := notify.MarshalJSON(ev)
		if err != nil {
			t.Fatal(err)
		}
		providertest.Golden(t, name, providertest.Indent(t, b), *update)
	}
}
