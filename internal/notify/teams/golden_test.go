package teams

import (
	"flag"
	"testing"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/notify/providertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGolden pins the Adaptive Card of an ALARM with evidence and of its OK.
func TestGolden(t *testing.T) {
	for name, a := range map[string]alert.Alert{
		"alarm.golden.json": providertest.Alarm("ALARM", "OK", 2),
		"ok.golden.json":    providertest.Alarm("OK", "ALARM", 0),
	} {
		b, err := Render(a)
		if err != nil {
			t.Fatal(err)
		}
		providertest.Golden(t, name, providertest.Indent(t, b), *update)
	}
}
