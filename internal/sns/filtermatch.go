package sns

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// value is one message value a condition is compared with.
type value struct {
	s      string
	num    float64
	isNum  bool
	isNull bool
	isStr  bool
}

// MatchAttributes reports whether message attributes pass the policy (MessageAttributes
// scope). String and String.Array values are compared as strings, Number values as numbers;
// Binary attributes are never compared, as in SNS [SNSDG-FILTER].
func (p *FilterPolicy) MatchAttributes(attrs map[string]MessageAttribute) bool {
	return p.match(func(keys []string) ([]value, bool) {
		if len(keys) != 1 {
			return nil, false
		}
		a, present := attrs[keys[0]]
		if !present {
			return nil, false
		}
		var vals []value
		switch {
		case strings.HasPrefix(a.DataType, "Binary"):
		case strings.HasPrefix(a.DataType, "String.Array"):
			var arr []any
			d := json.NewDecoder(strings.NewReader(a.StringValue))
			d.UseNumber()
			if d.Decode(&arr) == nil {
				for _, e := range arr {
					vals = append(vals, jsonValue(e))
				}
			}
		case strings.HasPrefix(a.DataType, "Number"):
			f, err := strconv.ParseFloat(a.StringValue, 64)
			vals = append(vals, value{s: a.StringValue, num: f, isNum: err == nil})
		default:
			vals = append(vals, value{s: a.StringValue, isStr: true})
		}
		return vals, true
	})
}

// MatchBody reports whether a JSON message body passes the policy (MessageBody scope); a body
// that is not a JSON object matches no policy but the empty one.
func (p *FilterPolicy) MatchBody(body string) bool {
	if len(p.branches) == 0 {
		return true
	}
	d := json.NewDecoder(bytes.NewReader([]byte(body)))
	d.UseNumber()
	var doc map[string]any
	if d.Decode(&doc) != nil {
		return false
	}
	return p.match(func(keys []string) ([]value, bool) {
		// Event Ruler sees a body as its leaf values: a key holding an object or an empty
		// array is not there.
		var vals []value
		collect(doc, keys, &vals)
		return vals, len(vals) > 0
	})
}

// collect gathers the leaf values at keys below v, descending into arrays as Event Ruler
// flattens them.
func collect(v any, keys []string, out *[]value) {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			collect(e, keys, out)
		}
		return
	}
	if len(keys) == 0 {
		if _, isObj := v.(map[string]any); !isObj {
			*out = append(*out, jsonValue(v))
		}
		return
	}
	if m, ok := v.(map[string]any); ok {
		if child, ok := m[keys[0]]; ok {
			collect(child, keys[1:], out)
		}
	}
}

func jsonValue(e any) value {
	switch e := e.(type) {
	case string:
		return value{s: e, isStr: true}
	case json.Number:
		f, err := e.Float64()
		return value{s: e.String(), num: f, isNum: err == nil}
	case nil:
		return value{s: "null", isNull: true}
	case bool:
		return value{s: strconv.FormatBool(e)}
	default:
		b, _ := json.Marshal(e)
		return value{s: string(b)}
	}
}

// match reports whether one branch accepts the message whose values lookup returns.
func (p *FilterPolicy) match(lookup func(keys []string) ([]value, bool)) bool {
	if len(p.branches) == 0 {
		return true
	}
	for _, b := range p.branches {
		ok := true
		for _, r := range b {
			vals, present := lookup(r.path)
			if !matchRule(r.conds, vals, present) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// matchRule reports whether one of the conditions matches: exists tests the key, the others
// one of its values.
func matchRule(conds []cond, vals []value, present bool) bool {
	for _, c := range conds {
		switch c.kind {
		case cExists:
			if present {
				return true
			}
			continue
		case cAbsent:
			if !present {
				return true
			}
			continue
		}
		for _, v := range vals {
			if c.matches(v) {
				return true
			}
		}
	}
	return false
}

func (c cond) matches(v value) bool {
	switch c.kind {
	case cExact:
		if c.str {
			return v.isStr && v.s == c.s
		}
		return !v.isNull && !v.isNum && !v.isStr && v.s == c.s
	case cNumEq:
		return v.isNum && v.num == c.n
	case cNull:
		return v.isNull
	case cPrefix:
		return v.isStr && strings.HasPrefix(v.s, c.s)
	case cSuffix:
		return v.isStr && strings.HasSuffix(v.s, c.s)
	case cEqualsIgnoreCase:
		return v.isStr && strings.EqualFold(v.s, c.s)
	case cWildcard:
		return v.isStr && wildcardMatch(c.s, v.s)
	case cAnythingBut:
		return !v.isNull && !(v.isStr && slices.Contains(c.set, v.s))
	case cAnythingButNum:
		return v.isNum && !slices.Contains(c.nums, v.num)
	case cAnythingButPrefix:
		return v.isStr && !strings.HasPrefix(v.s, c.s)
	case cAnythingButSuffix:
		return v.isStr && !strings.HasSuffix(v.s, c.s)
	case cAnythingButIgnoreCase:
		return v.isStr && !slices.ContainsFunc(c.set, func(s string) bool { return strings.EqualFold(s, v.s) })
	case cRange:
		if !v.isNum {
			return false
		}
		if v.num < c.lo || (c.loOpen && v.num == c.lo) || v.num > c.hi || (c.hiOpen && v.num == c.hi) {
			return false
		}
		return true
	case cCIDR:
		a, err := netip.ParseAddr(v.s)
		return v.isStr && err == nil && c.prefix.Contains(a.Unmap())
	}
	return false
}

// wildcardMatch matches s against a pattern where '*' stands for any run of characters and
// "\*" for a literal star (Event Ruler's wildcard).
func wildcardMatch(pattern, s string) bool {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern) && (pattern[i+1] == '*' || pattern[i+1] == '\\'):
			i++
			cur.WriteByte(pattern[i])
		case c == '*':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	parts = append(parts, cur.String())
	if len(parts) == 1 {
		return parts[0] == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}
