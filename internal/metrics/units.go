package metrics

// StandardUnits lists CloudWatch's StandardUnit enum in the API model's order; the order matters
// because validation messages print the set.
var StandardUnits = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
	"Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None",
}

// NormalizeUnit returns the stored form of a unit: "" (unset) becomes "None", the unit CloudWatch
// reports for data published without one.
func NormalizeUnit(u string) string {
	if u == "" {
		return "None"
	}
	return u
}

func validUnit(u string) bool {
	for _, s := range StandardUnits {
		if s == u {
			return true
		}
	}
	return false
}
