package slack

import (
	"flag"
	"testing"

	"github.com/trailwatch/trailwatch/internal/alert"
	"github.com/trailwatch/trailwatch/internal/notify"
	"github.com/trailwatch/trailwatch/internal/notify/providertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGolden pins the Block Kit messages of an ALARM with evidence, its OK and a plain message.
func TestGolden(t *testing.T) {
	for name, a := range map[string]alert.Alert{
		"alarm.golden.json": providertest.Alarm("ALARM", "OK", 2),
		"ok.golden.json":    providertest.Alarm("OK", "ALARM", 0),
		"plain.golden.json": alert.Parse("m", "arn:aws:sns:us-east-1:111122223333:t", "Disk", "disk <full> & more\nsecond line", ""),
	} {
		b, err := notify.MarshalJSON(Render(a))
		if err != nil {
			t.Fatal(err)
		}
		providertest.Golden(t, name, providertest.Indent(t, b), *update)
	}
}
