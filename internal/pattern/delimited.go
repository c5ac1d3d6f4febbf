package pattern

import (
	"bytes"
	"strconv"
)

// span is one field of a tokenised event: [start,end) is its value (brackets or quotes
// stripped), [rawStart,rawEnd) the text as written.
type span struct {
	start, end       int32
	rawStart, rawEnd int32
}

// isDelim reports whether c separates fields. Decision (§11 item 1): spaces and tabs both
// separate fields (Lambda's tab-separated lines work with the widely deployed
// `[timestamp=*Z, request_id="*-*", event]`), and a run of them counts as one separator.
func isDelim(c byte) bool { return c == ' ' || c == '\t' }

// tokenize splits msg into fields (§5.2). A field that starts with " or [ runs to the next " or
// ] and is stored without them; a quote or bracket inside a field is an ordinary character; an
// unclosed " or [ is an ordinary character too.
func tokenize(msg []byte, dst []span) []span {
	i := 0
	n := len(msg)
	for {
		for i < n && isDelim(msg[i]) {
			i++
		}
		if i >= n {
			return dst
		}
		if c := msg[i]; c == '"' || c == '[' {
			closer := byte('"')
			if c == '[' {
				closer = ']'
			}
			if j := bytes.IndexByte(msg[i+1:], closer); j >= 0 {
				end := i + 1 + j
				dst = append(dst, span{start: int32(i + 1), end: int32(end), rawStart: int32(i), rawEnd: int32(end + 1)})
				i = end + 1
				continue
			}
		}
		start := i
		for i < n && !isDelim(msg[i]) {
			i++
		}
		dst = append(dst, span{start: int32(start), end: int32(i), rawStart: int32(start), rawEnd: int32(i)})
	}
}

// delimProg is a compiled space-delimited pattern.
type delimProg struct {
	fields   []dfield
	ellipsis int // index of ..., or -1
}

type dfield struct {
	name string
	or   [][]test
}

func compileDelimited(fs []field) *delimProg {
	d := &delimProg{ellipsis: -1}
	for i, f := range fs {
		if f.ellipsis {
			d.ellipsis = i
		}
		df := dfield{name: f.name}
		for _, and := range f.or {
			var ts []test
			for _, c := range and {
				ts = append(ts, newTest(c.op, c.val))
			}
			df.or = append(df.or, ts)
		}
		d.fields = append(d.fields, df)
	}
	return d
}

// bind computes, for the tokenised event, the token range of every pattern field. It returns
// false when the event has too few fields. Decision (§11 item 1): without ..., an event with
// more fields than the pattern matches, the last field taking the rest of the line as written.
func (d *delimProg) bind(ntok int) (before, after int, ok bool) {
	nf := len(d.fields)
	if nf == 0 {
		return 0, 0, true
	}
	if d.ellipsis >= 0 {
		before, after = d.ellipsis, nf-d.ellipsis-1
		return before, after, ntok >= before+after
	}
	return nf, 0, ntok >= nf
}

// fieldText returns the text pattern field i binds to.
func (d *delimProg) fieldText(msg []byte, toks []span, i int) []byte {
	nf := len(d.fields)
	if d.ellipsis >= 0 {
		if i < d.ellipsis {
			t := toks[i]
			return msg[t.start:t.end]
		}
		t := toks[len(toks)-(nf-i)]
		return msg[t.start:t.end]
	}
	if i == nf-1 && len(toks) > nf {
		return msg[toks[i].rawStart:toks[len(toks)-1].rawEnd]
	}
	t := toks[i]
	return msg[t.start:t.end]
}

func (d *delimProg) match(msg []byte, toks []span) bool {
	if _, _, ok := d.bind(len(toks)); !ok {
		return false
	}
	for i := range d.fields {
		f := &d.fields[i]
		if len(f.or) == 0 {
			continue
		}
		text := d.fieldText(msg, toks, i)
		if !fieldMatches(f.or, text) {
			return false
		}
	}
	return true
}

func fieldMatches(or [][]test, text []byte) bool {
	for _, and := range or {
		all := true
		for j := range and {
			if !and[j].matchText(text) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// extract builds TestMetricFilter's extractedValues (§5.4): $name for named fields, the
// 1-based position $n for fields under ... and for unnamed slots.
func (d *delimProg) extract(msg []byte, toks []span) map[string]string {
	out := map[string]string{}
	nf := len(d.fields)
	if nf == 0 {
		for i, t := range toks {
			out["$"+strconv.Itoa(i+1)] = string(msg[t.start:t.end])
		}
		return out
	}
	put := func(i, pos int) {
		key := "$" + strconv.Itoa(pos)
		if d.fields[i].name != "" {
			key = "$" + d.fields[i].name
		}
		out[key] = string(d.fieldText(msg, toks, i))
	}
	if d.ellipsis < 0 {
		for i := 0; i < nf; i++ {
			put(i, i+1)
		}
		return out
	}
	for i := 0; i < d.ellipsis; i++ {
		put(i, i+1)
	}
	after := nf - d.ellipsis - 1
	for p := d.ellipsis; p < len(toks)-after; p++ {
		t := toks[p]
		out["$"+strconv.Itoa(p+1)] = string(msg[t.start:t.end])
	}
	for i := d.ellipsis + 1; i < nf; i++ {
		put(i, len(toks)-(nf-i)+1)
	}
	return out
}

// lookup returns the text a $name or $n reference denotes, for metric values and dimensions.
// name is the part after $.
func (d *delimProg) lookup(msg []byte, toks []span, ref string, pos int) ([]byte, bool) {
	if pos > 0 {
		if pos > len(toks) {
			return nil, false
		}
		t := toks[pos-1]
		return msg[t.start:t.end], true
	}
	for i := range d.fields {
		if d.fields[i].name == ref {
			return d.fieldText(msg, toks, i), true
		}
	}
	return nil, false
}
