package sns

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// FilterPolicy is a compiled subscription filter policy [§3.4, SNSDG-FILTER]: a message is
// accepted when every key matches, a key matching when at least one of its conditions does.
// Supported conditions: exact strings and numbers, null, and the operators prefix, suffix,
// anything-but (a value, a list or {"prefix":…}), numeric (=, <, <=, >, >= with up to two
// bounds), exists and equals-ignore-case. With MessageBody scope, nested objects address nested
// keys. Unsupported: the $or key and cidr matching (rejected as invalid, not ignored).
type FilterPolicy struct {
	root map[string]any
}

// policyError is a reason a filter policy is invalid. Its text is AWS's own (capitalised, and
// sometimes ending in a full stop), which clients show after "FilterPolicy: ", so it is kept verbatim
// rather than in Go's error-string style.
type policyError string

func (e policyError) Error() string { return string(e) }

// policyErrorf formats a policyError.
func policyErrorf(format string, args ...any) error {
	return policyError(fmt.Sprintf(format, args...))
}

// ParseFilterPolicy compiles a FilterPolicy attribute; the error text follows AWS's
// "FilterPolicy: …" reasons.
func ParseFilterPolicy(s string) (*FilterPolicy, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil || dec.More() {
		return nil, fmt.Errorf("failed to parse JSON")
	}
	if err := checkPolicy(root, 0); err != nil {
		return nil, err
	}
	return &FilterPolicy{root: root}, nil
}

func checkPolicy(m map[string]any, depth int) error {
	if depth > 5 {
		return policyErrorf("Filter policy scope MessageAttributes does not support nested filter policy")
	}
	if len(m) == 0 && depth > 0 {
		return policyErrorf("Empty filter policy object")
	}
	for k, v := range m {
		if k == "$or" {
			return policyErrorf("$or is not supported")
		}
		switch v := v.(type) {
		case map[string]any:
			if err := checkPolicy(v, depth+1); err != nil {
				return err
			}
		case []any:
			if len(v) == 0 {
				return policyErrorf("Empty arrays are not allowed")
			}
			for _, c := range v {
				if err := checkCondition(c); err != nil {
					return err
				}
			}
		default:
			return policyErrorf("%q must be an object or an array", k)
		}
	}
	return nil
}

func checkCondition(c any) error {
	switch c := c.(type) {
	case string, json.Number, nil, bool:
		return nil
	case map[string]any:
		if len(c) != 1 {
			return policyErrorf("Only one key allowed in match expression")
		}
		for op, v := range c {
			switch op {
			case "prefix", "suffix", "equals-ignore-case":
				if _, ok := v.(string); !ok {
					return policyErrorf("%s match pattern must be a string", op)
				}
			case "exists":
				if _, ok := v.(bool); !ok {
					return policyErrorf("exists match pattern must be either true or false.")
				}
			case "anything-but":
				switch v.(type) {
				case string, json.Number, []any, map[string]any:
				default:
					return policyErrorf("anything-but match pattern must be a value, a list or a prefix")
				}
			case "numeric":
				if _, err := numericRange(v); err != nil {
					return err
				}
			default:
				return policyErrorf("Unrecognized match type %s", op)
			}
		}
		return nil
	default:
		return policyErrorf("Match value must be String, number, true, false, or null")
	}
}

type bound struct {
	op string
	v  float64
}

func numericRange(v any) ([]bound, error) {
	l, ok := v.([]any)
	if !ok || len(l) == 0 || len(l) > 4 || len(l)%2 != 0 {
		return nil, policyErrorf("Value of numeric must be an array of an operator and a number")
	}
	var bs []bound
	for i := 0; i < len(l); i += 2 {
		op, ok := l[i].(string)
		n, ok2 := l[i+1].(json.Number)
		if !ok || !ok2 {
			return nil, policyErrorf("Value of numeric must be an array of an operator and a number")
		}
		switch op {
		case "=", "<", "<=", ">", ">=":
		default:
			return nil, policyErrorf("Unrecognized numeric range operator: %s", op)
		}
		f, err := n.Float64()
		if err != nil {
			return nil, policyErrorf("Value of numeric must be a number")
		}
		bs = append(bs, bound{op, f})
	}
	return bs, nil
}

// value is one message value a condition is compared with.
type value struct {
	s       string
	num     float64
	isNum   bool
	isNull  bool
	present bool
}

// MatchAttributes reports whether message attributes pass the policy (MessageAttributes
// scope). Binary attributes are never compared, as in SNS.
func (p *FilterPolicy) MatchAttributes(attrs map[string]MessageAttribute) bool {
	for k, conds := range p.root {
		list, ok := conds.([]any)
		if !ok {
			return false
		}
		a, present := attrs[k]
		var vals []value
		if present && !strings.HasPrefix(a.DataType, "Binary") {
			switch {
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
				vals = append(vals, value{s: a.StringValue, num: f, isNum: err == nil, present: true})
			default:
				vals = append(vals, value{s: a.StringValue, present: true})
			}
		}
		if !matchAny(list, vals, present) {
			return false
		}
	}
	return true
}

// MatchBody reports whether a JSON message body passes the policy (MessageBody scope); a body
// that is not a JSON object matches no policy.
func (p *FilterPolicy) MatchBody(body string) bool {
	d := json.NewDecoder(bytes.NewReader([]byte(body)))
	d.UseNumber()
	var doc map[string]any
	if d.Decode(&doc) != nil {
		return false
	}
	return matchObject(p.root, doc)
}

func matchObject(policy, doc map[string]any) bool {
	for k, conds := range policy {
		v, present := doc[k]
		switch c := conds.(type) {
		case map[string]any:
			sub, ok := v.(map[string]any)
			if !ok || !matchObject(c, sub) {
				return false
			}
		case []any:
			var vals []value
			if present {
				if arr, ok := v.([]any); ok {
					for _, e := range arr {
						vals = append(vals, jsonValue(e))
					}
				} else {
					vals = append(vals, jsonValue(v))
				}
			}
			if !matchAny(c, vals, present) {
				return false
			}
		}
	}
	return true
}

func jsonValue(e any) value {
	switch e := e.(type) {
	case string:
		return value{s: e, present: true}
	case json.Number:
		f, err := e.Float64()
		return value{s: e.String(), num: f, isNum: err == nil, present: true}
	case nil:
		return value{isNull: true, present: true}
	case bool:
		return value{s: strconv.FormatBool(e), present: true}
	default:
		b, _ := json.Marshal(e)
		return value{s: string(b), present: true}
	}
}

// matchAny reports whether one of the conditions matches one of the values.
func matchAny(conds []any, vals []value, present bool) bool {
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok {
			if e, ok := m["exists"]; ok {
				if e.(bool) == present {
					return true
				}
				continue
			}
			if ab, ok := m["anything-but"]; ok {
				// anything-but needs the key to be present.
				for _, v := range vals {
					if !matchesAnythingBut(ab, v) {
						continue
					}
					return true
				}
				continue
			}
		}
		for _, v := range vals {
			if matchCondition(c, v) {
				return true
			}
		}
	}
	return false
}

func matchCondition(c any, v value) bool {
	switch c := c.(type) {
	case string:
		return !v.isNull && v.s == c
	case json.Number:
		f, _ := c.Float64()
		return v.isNum && v.num == f
	case nil:
		return v.isNull
	case bool:
		return v.s == strconv.FormatBool(c)
	case map[string]any:
		for op, arg := range c {
			switch op {
			case "prefix":
				return !v.isNull && !v.isNum && strings.HasPrefix(v.s, arg.(string))
			case "suffix":
				return !v.isNull && !v.isNum && strings.HasSuffix(v.s, arg.(string))
			case "equals-ignore-case":
				return !v.isNull && strings.EqualFold(v.s, arg.(string))
			case "numeric":
				if !v.isNum {
					return false
				}
				bs, _ := numericRange(arg)
				for _, b := range bs {
					ok := false
					switch b.op {
					case "=":
						ok = v.num == b.v
					case "<":
						ok = v.num < b.v
					case "<=":
						ok = v.num <= b.v
					case ">":
						ok = v.num > b.v
					case ">=":
						ok = v.num >= b.v
					}
					if !ok {
						return false
					}
				}
				return true
			}
		}
	}
	return false
}

func matchesAnythingBut(ab any, v value) bool {
	switch ab := ab.(type) {
	case []any:
		for _, x := range ab {
			if matchCondition(x, v) {
				return false
			}
		}
		return true
	case map[string]any:
		if p, ok := ab["prefix"].(string); ok {
			return !strings.HasPrefix(v.s, p)
		}
		return false
	default:
		return !matchCondition(ab, v)
	}
}
