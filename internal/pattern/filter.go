package pattern

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Transformation is the metric side of a metric filter (the API's MetricTransformation without
// the metric's name and namespace, which this package does not need).
type Transformation struct {
	// MetricValue is what one matching event adds: a number such as "1", "$.field" for a JSON
	// pattern, or "$name" / "$n" for a space-delimited pattern.
	MetricValue string
	// DefaultValue is published for a period with events but no match; nil means none.
	DefaultValue *float64
	// Dimensions maps a dimension name to "$.field" (JSON) or "$name" (delimited).
	Dimensions map[string]string
	// Unit is a CloudWatch standard unit name; "" means None.
	Unit string
}

// maxDimensions and maxMetricValueLen are AWS's limits (§7, §8).
const (
	maxDimensions     = 3
	maxMetricValueLen = 100
)

// standardUnits is CloudWatch's StandardUnit enumeration, in the order AWS lists it in
// validation messages.
const standardUnits = "Seconds, Microseconds, Milliseconds, Bytes, Kilobytes, Megabytes, Gigabytes, " +
	"Terabytes, Bits, Kilobits, Megabits, Gigabits, Terabits, Percent, Count, " +
	"Bytes/Second, Kilobytes/Second, Megabytes/Second, Gigabytes/Second, Terabytes/Second, " +
	"Bits/Second, Kilobits/Second, Megabits/Second, Gigabits/Second, Terabits/Second, " +
	"Count/Second, None"

// refKind says where a metric value or dimension value comes from.
type refKind int

const (
	refConst refKind = iota // a number literal
	refJSON                 // $.selector, slot in the filter's paths
	refName                 // $name of a delimited field
	refPos                  // $n, 1-based delimited position
)

type ref struct {
	kind refKind
	num  float64
	slot int
	name string
	pos  int
}

// DimensionValue is one dimension of a published metric value.
type DimensionValue struct {
	Name  string
	Value string
}

// Result is what one matching event publishes. Filter.Eval and Set.Eval reuse it between
// calls, so callers copy what they keep.
type Result struct {
	// Value is the metric value when Publish is true.
	Value float64
	// Publish is false when the metric value or a dimension is missing or not usable (the
	// referenced field is absent, null, an object or array, or not numeric): the event matched,
	// but AWS publishes no datapoint for it (decision on §11 item 14).
	Publish bool
	// Dimensions are in name order.
	Dimensions []DimensionValue
}

// Filter is a compiled pattern together with its metric transformation. It is immutable and
// safe for concurrent use.
type Filter struct {
	pattern *Pattern
	t       Transformation
	value   ref
	dims    []dimRef
	paths   []selector // JSON: the pattern's selectors, then the value's and dimensions'
	root    *pathNode
	pool    sync.Pool // *scanState
}

type dimRef struct {
	name string
	ref  ref
}

// CompileFilter validates a pattern together with its metric transformation, with AWS's
// messages, and compiles both.
func CompileFilter(pattern string, t Transformation) (*Filter, error) {
	p, perr := compile(pattern)
	if perr != nil {
		return nil, perr
	}
	f := &Filter{pattern: p, t: t}
	if p.json != nil {
		f.paths = append([]selector(nil), p.json.paths...)
	}
	if err := f.compileTransformation(); err != nil {
		return nil, err
	}
	if p.json != nil {
		f.root = buildTrie(f.paths)
	}
	return f, nil
}

func validationErr(value, member, constraint string) *Error {
	return otherErr(fmt.Sprintf("1 validation error detected: Value '%s' at 'metricTransformations.1.member.%s' failed to satisfy constraint: %s",
		value, member, constraint), "")
}

func (f *Filter) compileTransformation() *Error {
	t := f.t
	mv := t.MetricValue
	switch n := utf8.RuneCountInString(mv); {
	case n == 0:
		return validationErr(mv, "metricValue", "Member must have length greater than or equal to 1")
	case n > maxMetricValueLen:
		return validationErr(mv, "metricValue", "Member must have length less than or equal to 100")
	}
	if t.Unit != "" {
		if !slices.Contains(strings.Split(standardUnits, ", "), t.Unit) {
			return validationErr(t.Unit, "unit", "Member must satisfy enum value set: ["+standardUnits+"]")
		}
	}
	r, err := f.parseRef(mv, true)
	if err != nil {
		return err
	}
	f.value = r
	if len(t.Dimensions) > 0 {
		if f.pattern.json == nil && f.pattern.delim == nil {
			return otherErr("The specified filter pattern does not support dimensions",
				"dimensions need a JSON or space-delimited pattern")
		}
		if len(t.Dimensions) > maxDimensions {
			return validationErr(renderMap(t.Dimensions), "dimensions", "Member must have length less than or equal to 3")
		}
		if t.DefaultValue != nil {
			return otherErr("Invalid metric transformation: dimensions and default value are mutually exclusive properties", "")
		}
		names := make([]string, 0, len(t.Dimensions))
		for k := range t.Dimensions {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if k == "" || utf8.RuneCountInString(k) > 255 {
				return validationErr(renderMap(t.Dimensions), "dimensions", "Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 1]")
			}
			r, err := f.parseRef(t.Dimensions[k], false)
			if err != nil {
				return err
			}
			if r.kind == refConst || r.kind == refPos {
				return otherErr(fmt.Sprintf("Invalid metric transformation: dimension '%s' must refer to a field of the filter pattern", k),
					"a dimension value is $.selector (JSON) or $name (space-delimited)")
			}
			f.dims = append(f.dims, dimRef{name: k, ref: r})
		}
	}
	return nil
}

func renderMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// parseRef parses a metric value (isValue) or a dimension value.
func (f *Filter) parseRef(s string, isValue bool) (ref, *Error) {
	what := "metric value"
	if !isValue {
		what = "dimension value"
	}
	bad := func(detail string) *Error {
		return otherErr(fmt.Sprintf("Invalid metric transformation: %s '%s' is not valid for this filter pattern", what, s), detail)
	}
	if isValue {
		if n, ok := parseNumber(s); ok {
			return ref{kind: refConst, num: n}, nil
		}
	}
	if !strings.HasPrefix(s, "$") {
		return ref{}, bad("expected a number, $.selector or $name")
	}
	switch {
	case f.pattern.json != nil:
		p := &parser{src: s}
		sel, err := p.selector()
		if err != nil || p.pos != len(s) {
			return ref{}, bad("expected a JSON selector such as $.field")
		}
		if sel.wildcards() > 0 {
			return ref{}, bad("wildcard selectors cannot be metric or dimension values")
		}
		return ref{kind: refJSON, slot: slotOf(&f.paths, sel)}, nil
	case f.pattern.delim != nil:
		name := s[1:]
		if !isWord(name) {
			return ref{}, bad("expected $name or $n")
		}
		for _, fd := range f.pattern.delim.fields {
			if fd.name == name {
				return ref{kind: refName, name: name}, nil
			}
		}
		if n, err := strconv.Atoi(name); err == nil && n >= 1 && isValue {
			return ref{kind: refPos, pos: n}, nil
		}
		return ref{}, bad(fmt.Sprintf("the pattern has no field named %q", name))
	}
	return ref{}, bad("only JSON and space-delimited patterns have fields")
}

// Pattern returns the compiled filter pattern.
func (f *Filter) Pattern() *Pattern { return f.pattern }

// Transformation returns the transformation the filter was compiled with.
func (f *Filter) Transformation() Transformation { return f.t }

func (f *Filter) state() *scanState {
	if s, ok := f.pool.Get().(*scanState); ok {
		return s
	}
	return &scanState{}
}

// Eval matches msg and, when it matches, fills r with what the event publishes. It allocates
// nothing in steady state unless a dimension value changes.
func (f *Filter) Eval(msg []byte, r *Result) (matched bool) {
	s := f.state()
	defer f.pool.Put(s)
	p := f.pattern
	switch p.ast.kind {
	case KindJSON:
		if !s.scan(msg, f.root, len(f.paths)) || !s.evalJSON(&p.json.expr, nil) {
			return false
		}
	case KindDelimited:
		s.fields = tokenize(msg, s.fields[:0])
		if !p.delim.match(msg, s.fields) {
			return false
		}
	default:
		if !p.matchState(s, msg) {
			return false
		}
	}
	f.fill(s, msg, nil, r)
	return true
}

// fill computes the metric value and dimensions of a matched event.
func (f *Filter) fill(s *scanState, msg []byte, slotMap []int, r *Result) {
	r.Publish = true
	v, ok := f.number(s, msg, slotMap, f.value)
	r.Value = v
	if !ok {
		r.Publish = false
	}
	if len(f.dims) == 0 {
		r.Dimensions = r.Dimensions[:0]
		return
	}
	if cap(r.Dimensions) < len(f.dims) {
		r.Dimensions = make([]DimensionValue, len(f.dims))
	}
	r.Dimensions = r.Dimensions[:len(f.dims)]
	for i, d := range f.dims {
		b, ok := f.text(s, msg, slotMap, d.ref)
		if !ok {
			r.Publish = false
			continue
		}
		dv := &r.Dimensions[i]
		dv.Name = d.name
		if dv.Value != string(b) {
			dv.Value = string(b)
		}
	}
}

func (f *Filter) text(s *scanState, msg []byte, slotMap []int, r ref) ([]byte, bool) {
	switch r.kind {
	case refJSON:
		slot := r.slot
		if slotMap != nil {
			slot = slotMap[slot]
		}
		vals := s.vals[slot]
		if len(vals) == 0 {
			return nil, false
		}
		return s.valueText(vals[len(vals)-1])
	case refName:
		return f.pattern.delim.lookup(msg, s.fields, r.name, 0)
	case refPos:
		return f.pattern.delim.lookup(msg, s.fields, "", r.pos)
	}
	return nil, false
}

func (f *Filter) number(s *scanState, msg []byte, slotMap []int, r ref) (float64, bool) {
	switch r.kind {
	case refConst:
		return r.num, true
	case refJSON:
		slot := r.slot
		if slotMap != nil {
			slot = slotMap[slot]
		}
		vals := s.vals[slot]
		if len(vals) == 0 {
			return 0, false
		}
		return s.valueNumber(vals[len(vals)-1])
	}
	b, ok := f.text(s, msg, slotMap, r)
	if !ok {
		return 0, false
	}
	return numericText(b)
}

// Set evaluates the metric filters of one log group against each event, scanning a JSON event
// once for the selectors of all its filters. It is immutable and safe for concurrent use.
type Set struct {
	filters  []*Filter
	paths    []selector
	root     *pathNode
	maps     [][]int // per filter: its slot -> the set's slot
	hasJSON  bool
	hasDelim bool
	// Filters whose pattern requires `$.x = "literal"` (guarded filters) are reached through
	// an index from the value at $.x, and filters that only require $.x to be present through
	// present, so an event is only evaluated against the filters it can match; the others are
	// in always.
	indexes []guardIndex
	present []presenceIndex
	always  []int
	pool    sync.Pool // *setState
}

// presenceIndex lists the filters that can only match when a selector has a value.
type presenceIndex struct {
	slot    int
	filters []int
}

// guardIndex maps the text at one selector to the guarded filters that need that text.
type guardIndex struct {
	slot    int
	byValue map[string][]int
}

type setState struct {
	scanState
	results []Result
	marks   []bool
}

// NewSet prepares filters for evaluation together; indexes passed to Eval's callback are
// indexes into filters.
func NewSet(filters []*Filter) *Set {
	s := &Set{filters: filters, maps: make([][]int, len(filters))}
	bySlot := map[int]int{}    // set slot -> index in s.indexes
	byPresent := map[int]int{} // set slot -> index in s.present
	for i, f := range filters {
		switch f.pattern.ast.kind {
		case KindJSON:
			s.hasJSON = true
			m := make([]int, len(f.paths))
			for j, sel := range f.paths {
				m[j] = slotOf(&s.paths, sel)
			}
			s.maps[i] = m
			if slot, lits, ok := guard(&f.pattern.json.expr); ok {
				gs := m[slot]
				k, seen := bySlot[gs]
				if !seen {
					k = len(s.indexes)
					bySlot[gs] = k
					s.indexes = append(s.indexes, guardIndex{slot: gs, byValue: map[string][]int{}})
				}
				for _, lit := range lits {
					s.indexes[k].byValue[lit] = append(s.indexes[k].byValue[lit], i)
				}
				continue
			}
			if slot, ok := presence(&f.pattern.json.expr); ok {
				gs := m[slot]
				k, seen := byPresent[gs]
				if !seen {
					k = len(s.present)
					byPresent[gs] = k
					s.present = append(s.present, presenceIndex{slot: gs})
				}
				s.present[k].filters = append(s.present[k].filters, i)
				continue
			}
		case KindDelimited:
			s.hasDelim = true
		}
		s.always = append(s.always, i)
	}
	if s.hasJSON {
		s.root = buildTrie(s.paths)
	}
	return s
}

// Len returns the number of filters in the set.
func (s *Set) Len() int { return len(s.filters) }

// Eval calls fn for each filter that matches msg, in index order. r is valid only during fn.
func (s *Set) Eval(msg []byte, fn func(i int, r *Result)) {
	st, _ := s.pool.Get().(*setState)
	if st == nil {
		st = &setState{}
	}
	defer s.pool.Put(st)
	if len(st.results) < len(s.filters) {
		st.results = make([]Result, len(s.filters))
		st.marks = make([]bool, len(s.filters))
	}
	jsonOK := false
	if s.hasJSON {
		jsonOK = st.scan(msg, s.root, len(s.paths))
	}
	if s.hasDelim {
		st.fields = tokenize(msg, st.fields[:0])
	}
	// Mark the candidate filters: the unguarded ones, and the guarded ones whose guard value
	// is the event's.
	marks := st.marks
	for _, i := range s.always {
		marks[i] = true
	}
	if jsonOK {
		for k := range s.indexes {
			ix := &s.indexes[k]
			vals := st.vals[ix.slot]
			if len(vals) == 0 {
				continue
			}
			v := vals[len(vals)-1]
			if v.kind != jString && v.kind != jNumber {
				continue
			}
			for _, i := range ix.byValue[string(st.text(v))] {
				marks[i] = true
			}
		}
		for k := range s.present {
			if len(st.vals[s.present[k].slot]) > 0 {
				for _, i := range s.present[k].filters {
					marks[i] = true
				}
			}
		}
	}
	for i, f := range s.filters {
		if !marks[i] {
			continue
		}
		marks[i] = false
		p := f.pattern
		var ok bool
		switch p.ast.kind {
		case KindMatchAll:
			ok = true
		case KindTerms:
			ok = p.terms.match(msg)
		case KindJSON:
			ok = jsonOK && st.evalJSON(&p.json.expr, s.maps[i])
		case KindDelimited:
			ok = p.delim.match(msg, st.fields)
		}
		if !ok {
			continue
		}
		r := &st.results[i]
		f.fill(&st.scanState, msg, s.maps[i], r)
		fn(i, r)
	}
}
