package pattern

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/trailwatch/trailwatch/internal/corpus"
)

// benchEvents is the number of CloudTrail records in the benchmark corpus.
const benchEvents = 20000

// corpusCache holds the corpus once loaded, so that benchmarks run one after another do not
// reload 26 MB each (and measure the garbage collector instead of the matcher).
var corpusCache struct {
	sync.Mutex
	events [][]byte
}

// benchCorpus returns a deterministic CloudTrail corpus made by ../shared/tools/gen-cloudtrail,
// cached in the temporary directory between runs (never committed).
func benchCorpus(b *testing.B) [][]byte {
	b.Helper()
	corpusCache.Lock()
	defer corpusCache.Unlock()
	if corpusCache.events != nil {
		return corpusCache.events
	}
	shared := corpus.SharedDir(b)
	path := filepath.Join(os.TempDir(), fmt.Sprintf("trailwatch-pattern-bench-%d.ndjson", benchEvents))
	if _, err := os.Stat(path); err != nil {
		tmp := path + ".tmp"
		cmd := exec.Command(filepath.Join(shared, "tools", "gen-cloudtrail"), "--events", fmt.Sprint(benchEvents),
			"--seed", "7", "--out", tmp, "--summary", os.DevNull)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Skipf("gen-cloudtrail failed (%v): %s", err, out)
		}
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var events [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		events = append(events, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	corpusCache.events = events
	runtime.GC()
	return events
}

func totalBytes(events [][]byte) int {
	n := 0
	for _, e := range events {
		n += len(e)
	}
	return n
}

func cisFilters(b *testing.B) []*Filter {
	b.Helper()
	var fs []*Filter
	for _, c := range cisPatterns {
		f, err := CompileFilter(c.pattern, Transformation{MetricValue: "1"})
		if err != nil {
			b.Fatal(err)
		}
		fs = append(fs, f)
	}
	return fs
}

// reportRate reports events/s; one benchmark op is one event.
func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkCIS evaluates the 15 CIS patterns against every event of the corpus: "optimised" is a
// Set (one scan per event), "baseline" decodes each event with encoding/json into map[string]any
// once and runs the reference interpreter over the 15 ASTs. One op is one event; MB/s is per
// core (the benchmark is single-threaded).
func BenchmarkCIS(b *testing.B) {
	events := benchCorpus(b)
	filters := cisFilters(b)
	avg := int64(totalBytes(events) / len(events))
	b.Run("impl=optimised", func(b *testing.B) {
		set := NewSet(filters)
		matches := 0
		fn := func(int, *Result) { matches++ }
		b.SetBytes(avg)
		b.ReportAllocs()
		runtime.GC() // do not pay for the garbage of the previous benchmark
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			set.Eval(events[i%len(events)], fn)
		}
		reportRate(b)
	})
	b.Run("impl=separate", func(b *testing.B) {
		// The 15 patterns matched one by one (15 scans per event), to show what the Set saves.
		matches := 0
		b.SetBytes(avg)
		b.ReportAllocs()
		runtime.GC() // do not pay for the garbage of the previous benchmark
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			ev := events[i%len(events)]
			for _, f := range filters {
				if f.Pattern().Match(ev) {
					matches++
				}
			}
		}
		reportRate(b)
	})
	b.Run("impl=baseline", func(b *testing.B) {
		asts := make([]*ast, len(filters))
		for i, f := range filters {
			asts[i] = f.Pattern().ast
		}
		matches := 0
		b.SetBytes(avg)
		b.ReportAllocs()
		runtime.GC() // do not pay for the garbage of the previous benchmark
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			doc, ok := refDecode(events[i%len(events)])
			if !ok {
				continue
			}
			for _, a := range asts {
				if refExpr(a.json, doc) {
					matches++
				}
			}
		}
		reportRate(b)
	})
}

// manyFilters returns n metric filters of the shapes found on a CloudTrail log group: the CIS
// patterns first, then variants over the fields CloudTrail records carry: half keyed on an
// eventName/eventSource/userIdentity.type/errorCode equality, the rest with leading wildcards,
// != and NOT EXISTS, and at most 5 regular expressions.
func manyFilters(b *testing.B, n int) []*Filter {
	b.Helper()
	all := cisFilters(b)
	fields := []string{"eventName", "eventSource", "errorCode", "userIdentity.type", "awsRegion",
		"sourceIPAddress", "userIdentity.arn", "recipientAccountId", "requestParameters.bucketName", "eventType"}
	for i := 0; len(all) < n; i++ {
		f1 := fields[i%len(fields)]
		f2 := fields[(i/len(fields)+i+1)%len(fields)]
		var src string
		switch i % 10 {
		case 0, 1, 2:
			src = fmt.Sprintf(`{ ($.eventName = "Action%d") && ($.%s != "Other%d") }`, i, f2, i)
		case 3, 4:
			src = fmt.Sprintf(`{ ($.eventSource = "svc%d.amazonaws.com") && (($.eventName = "A%d") || ($.eventName = "B%d") || ($.eventName = "C%d")) }`, i, i, i, i)
		case 5:
			src = fmt.Sprintf(`{ $.%s = "Value%d" || $.%s = "Other%d*" }`, f1, i, f2, i)
		case 6:
			src = fmt.Sprintf(`{ $.%s = "*%d" && $.userIdentity.invokedBy NOT EXISTS }`, f1, i)
		case 7:
			src = fmt.Sprintf(`{ $.userIdentity.type = "Type%d" && $.%s = "*" }`, i, f1)
		case 8:
			// AWS allows at most 5 regex filters per log group (§6).
			if i < 50 {
				src = fmt.Sprintf(`{ $.%s = %%Val[0-9]+%d%% }`, f1, i)
			} else {
				src = fmt.Sprintf(`{ $.%s = "Val*%d" }`, f1, i)
			}
		default:
			src = fmt.Sprintf(`{ $.errorCode = "Error%d" && $.%s = "x%d" }`, i, f2, i)
		}
		f, err := CompileFilter(src, Transformation{MetricValue: "1"})
		if err != nil {
			b.Fatal(src, err)
		}
		all = append(all, f)
	}
	return all[:n]
}

// BenchmarkSetFilters measures how the cost per event grows with the number of metric filters
// on one log group.
func BenchmarkSetFilters(b *testing.B) {
	events := benchCorpus(b)
	avg := int64(totalBytes(events) / len(events))
	for _, n := range []int{1, 15, 200} {
		b.Run(fmt.Sprintf("filters=%d", n), func(b *testing.B) {
			set := NewSet(manyFilters(b, n))
			fn := func(int, *Result) {}
			b.SetBytes(avg)
			b.ReportAllocs()
			runtime.GC() // do not pay for the garbage of the previous benchmark
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				set.Eval(events[i%len(events)], fn)
			}
			reportRate(b)
		})
	}
}

// BenchmarkMatch measures a single pattern of each kind.
func BenchmarkMatch(b *testing.B) {
	events := benchCorpus(b)
	avg := int64(totalBytes(events) / len(events))
	for _, c := range []struct{ name, src string }{
		{"json-root", cisPatterns[0].pattern},
		{"terms", `ConsoleLogin -"Failed authentication"`},
		{"regex", `%Console[A-Z][a-z]+%`},
	} {
		b.Run(c.name, func(b *testing.B) {
			p, err := Compile(c.src)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(avg)
			b.ReportAllocs()
			runtime.GC() // do not pay for the garbage of the previous benchmark
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				p.Match(events[i%len(events)])
			}
			reportRate(b)
		})
	}
}
