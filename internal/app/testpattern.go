package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/trailwatch/trailwatch/internal/pattern"
)

// testPatternUsage is printed for -h and on usage errors.
const testPatternUsage = `usage: trailwatch test-pattern --filter-pattern PATTERN [--metric-value EXPR] [FILE]

Reads log event messages, one per line, from FILE (standard input when FILE is absent or "-")
and prints the events the pattern matches as a TestMetricFilter response:
  {"matches":[{"eventNumber":N,"eventMessage":"...","extractedValues":{...}}]}
With --metric-value, each match also has "value", the metric value the event would publish
(absent when the event publishes nothing, e.g. the field is missing or not a number).
Lines are numbered from 1; there is no limit on their number.

Exit status: 0 on success, 2 for an invalid pattern or usage, 1 for an I/O error.

Examples:
  trailwatch test-pattern --filter-pattern '{ $.eventName = "ConsoleLogin" }' events.jsonl
  tail -f app.log | trailwatch test-pattern --filter-pattern '[ip, user, ts, req, status=5*, bytes]' --metric-value '$bytes'
`

// tmfMatch is one element of TestMetricFilter's matches, plus the CLI's optional value.
type tmfMatch struct {
	EventNumber     int               `json:"eventNumber"`
	EventMessage    string            `json:"eventMessage"`
	ExtractedValues map[string]string `json:"extractedValues"`
	Value           *string           `json:"value,omitempty"`
}

// runTestPattern implements `trailwatch test-pattern`. It prints one JSON document, the shape of a
// TestMetricFilter response, streaming the matches as it reads the events.
func runTestPattern(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test-pattern", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, testPatternUsage) }
	filterPattern := fs.String("filter-pattern", "", "the filter pattern (required; may be empty)")
	metricValue := fs.String("metric-value", "", "a metric value: a number, $.field or $name")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	seen := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "filter-pattern" {
			seen = true
		}
	})
	if !seen {
		fmt.Fprintln(stderr, "test-pattern: --filter-pattern is required")
		fs.Usage()
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "test-pattern: at most one FILE")
		fs.Usage()
		return 2
	}

	mv := *metricValue
	withValue := mv != ""
	if !withValue {
		mv = "1"
	}
	filter, err := pattern.CompileFilter(*filterPattern, pattern.Transformation{MetricValue: mv})
	if err != nil {
		var pe *pattern.Error
		if errors.As(err, &pe) {
			// One line, so scripts can read it: AWS's code and message, then where and what went wrong,
			// e.g. "InvalidParameterException: Invalid metric filter pattern (at offset 7: ...)".
			fmt.Fprintln(stderr, pe.Error())
			return 2
		}
		fmt.Fprintf(stderr, "test-pattern: %v\n", err)
		return 2
	}

	in := stdin
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			fmt.Fprintf(stderr, "test-pattern: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}

	// Stream the document: the input has no size limit, so matches are not held in memory.
	w := bufio.NewWriter(stdout)
	w.WriteString(`{"matches":[`)
	sc := bufio.NewScanner(in)
	// CloudWatch Logs events are at most 256 KB; allow some slack for a line terminator.
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var r pattern.Result
	first := true
	for n := 1; sc.Scan(); n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			fmt.Fprintf(stderr, "test-pattern: %v\n", ctx.Err())
			return 1
		}
		line := sc.Bytes()
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if !filter.Eval(line, &r) {
			continue
		}
		ev, _ := filter.Pattern().Extract(line)
		m := tmfMatch{EventNumber: n, EventMessage: string(line), ExtractedValues: ev}
		if withValue && r.Publish {
			v := strconv.FormatFloat(r.Value, 'f', -1, 64)
			m.Value = &v
		}
		if !first {
			w.WriteByte(',')
		}
		first = false
		b, err := marshalNoEscape(m)
		if err != nil {
			fmt.Fprintf(stderr, "test-pattern: encode: %v\n", err)
			return 1
		}
		w.Write(b)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(stderr, "test-pattern: read events: %v\n", err)
		return 1
	}
	w.WriteString("]}\n")
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "test-pattern: write: %v\n", err)
		return 1
	}
	return 0
}

// marshalNoEscape encodes v as JSON without escaping <, > and & (log messages are shown as
// they are) and without a trailing newline.
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
