package alarm

import (
	"time"

	"github.com/trailwatch/trailwatch/internal/javafmt"
)

// javaDouble formats v the way Java's Double.toString does, which is how CloudWatch prints every
// value and threshold ("1.0", "6.046241709654764", "1.6E10", "1.0E-4") [§1.8, FINDSTR 57945354789].
func javaDouble(v float64) string { return javafmt.Double(v) }

// javaTime formats t as CloudWatch's JSON timestamps: "2022-09-25T18:50:37.811+0000" (UTC,
// milliseconds, numeric zone without a colon) [§1.9, §2.1].
func javaTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000") + "+0000"
}

// reasonTime formats a datapoint timestamp inside StateReason: day/month/two-digit year, UTC,
// "(25/09/22 18:49:00)" without the parentheses [§1.8, SREBOT].
func reasonTime(t time.Time) string { return t.UTC().Format("02/01/06 15:04:05") }

// longTime formats the human timestamp of emails and composite reasons:
// "Wednesday 10 July, 2024 16:24:03 UTC" [§2.2, FINDSTR 18284939227].
func longTime(t time.Time) string { return t.UTC().Format("Monday 02 January, 2006 15:04:05 UTC") }

// plural picks the singular or plural word for n ("datapoint"/"datapoints").
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
