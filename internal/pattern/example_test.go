package pattern_test

import (
	"errors"
	"fmt"

	"github.com/trailwatch/trailwatch/internal/pattern"
)

func ExampleCompile() {
	p, err := pattern.Compile(`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Kind())
	fmt.Println(p.Match([]byte(`{"userIdentity":{"type":"Root"},"eventType":"AwsConsoleSignIn"}`)))
	fmt.Println(p.Match([]byte(`{"userIdentity":{"type":"Root","invokedBy":"s3.amazonaws.com"},"eventType":"AwsApiCall"}`)))
	// != on a missing field is false.
	fmt.Println(p.Match([]byte(`{"userIdentity":{"type":"Root"}}`)))
	// Output:
	// json
	// true
	// false
	// false
}

func ExampleCompile_error() {
	_, err := pattern.Compile(`?Status: timeout`)
	var pe *pattern.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.ErrorCode())
		fmt.Println(pe.ErrorMessage())
		fmt.Println(pe.ForFilterLogEvents().ErrorMessage())
		fmt.Println(pe.Pos, pe.Detail)
	}
	// Output:
	// InvalidParameterException
	// Invalid character(s) in term ':'
	// Invalid filter pattern
	// 7 characters other than letters, digits and _ must be quoted
}

func ExamplePattern_Extract() {
	p, _ := pattern.Compile(`[ip, user, username, timestamp, request, status_code = 4*, bytes]`)
	values, ok := p.Extract([]byte(`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`))
	fmt.Println(ok, values["$timestamp"], values["$request"], values["$bytes"])
	// Output:
	// true 10/Oct/2000:13:25:15 -0700 GET /index.html HTTP/1.0 1534
}

func ExampleSet() {
	var filters []*pattern.Filter
	for _, src := range []string{
		`{ $.eventName = "ConsoleLogin" }`,
		`{ $.latency > 100 }`,
		`ERROR`,
	} {
		metricValue := "1"
		if src == `{ $.latency > 100 }` {
			metricValue = "$.latency"
		}
		f, err := pattern.CompileFilter(src, pattern.Transformation{MetricValue: metricValue})
		if err != nil {
			panic(err)
		}
		filters = append(filters, f)
	}
	set := pattern.NewSet(filters)
	set.Eval([]byte(`{"eventName":"ConsoleLogin","latency":250}`), func(i int, r *pattern.Result) {
		fmt.Println(i, r.Value, r.Publish)
	})
	// Output:
	// 0 1 true
	// 1 250 true
}
