package awsapi

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// qnode is one dotted segment of awsQuery form keys: "Dimensions.member.1.Name=x" becomes the path
// Dimensions → member → 1 → Name holding "x".
type qnode struct {
	value    string
	hasValue bool
	children map[string]*qnode
}

// maxQueryDepth bounds the dotted depth of a form key; AWS shapes nest far less deeply.
const maxQueryDepth = 32

// buildQueryTree turns form values into a tree. For a key given several times the first value
// wins, as in url.Values.Get.
func buildQueryTree(form url.Values) (*qnode, error) {
	root := &qnode{}
	for key, vals := range form {
		n := root
		depth := 0
		for seg := range strings.SplitSeq(key, ".") {
			depth++
			if depth > maxQueryDepth {
				return nil, fmt.Errorf("parameter %.64q is nested too deeply", key)
			}
			if n.children == nil {
				n.children = map[string]*qnode{}
			}
			c := n.children[seg]
			if c == nil {
				c = &qnode{}
				n.children[seg] = c
			}
			n = c
		}
		if len(vals) > 0 && !n.hasValue {
			n.value, n.hasValue = vals[0], true
		}
	}
	return root, nil
}

// queryError is a form value that does not fit its member.
type queryError struct {
	path, value, want string
}

func (e *queryError) Error() string {
	return fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must be %s", e.value, e.path, e.want)
}

// decodeQuery fills the struct pointed to by out from form values.
func decodeQuery(form url.Values, out any) error {
	root, err := buildQueryTree(form)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(out).Elem()
	return decodeQueryStruct(root, v, "")
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func decodeQueryStruct(n *qnode, v reflect.Value, path string) error {
	if n.children == nil {
		if n.hasValue && n.value != "" {
			return &queryError{path: path, value: n.value, want: "a structure"}
		}
		return nil
	}
	sh := shapeOf(v.Type())
	for i := range sh.fields {
		f := &sh.fields[i]
		c := n.children[f.name]
		if c == nil {
			continue
		}
		if err := decodeQueryValue(c, v.FieldByIndex(f.index), f, joinPath(path, f.name)); err != nil {
			return err
		}
	}
	return nil
}

// decodeQueryValue decodes node n into v; f carries the list/map naming options of the member.
func decodeQueryValue(n *qnode, v reflect.Value, f *field, path string) error {
	t := v.Type()
	switch {
	case t == timeType:
		ts, err := parseTimestamp(n.value)
		if err != nil {
			return &queryError{path: path, value: n.value, want: "an ISO 8601 timestamp"}
		}
		v.Set(reflect.ValueOf(Time{ts}))
		return nil
	case t == bytesType:
		b, err := base64.StdEncoding.DecodeString(n.value)
		if err != nil {
			return &queryError{path: path, value: n.value, want: "base64-encoded binary"}
		}
		v.SetBytes(b)
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := decodeQueryValue(n, p.Elem(), f, path); err != nil {
			return err
		}
		v.Set(p)
	case reflect.String:
		v.SetString(n.value)
	case reflect.Bool:
		switch strings.ToLower(n.value) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return &queryError{path: path, value: n.value, want: "a boolean (true or false)"}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(n.value, 10, t.Bits())
		if err != nil {
			return &queryError{path: path, value: n.value, want: "an integer"}
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(n.value, 10, t.Bits())
		if err != nil {
			return &queryError{path: path, value: n.value, want: "a non-negative integer"}
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		x, err := parseQueryFloat(n.value, t.Bits())
		if err != nil {
			return &queryError{path: path, value: n.value, want: "a number"}
		}
		v.SetFloat(x)
	case reflect.Struct:
		return decodeQueryStruct(n, v, path)
	case reflect.Slice:
		return decodeQueryList(n, v, f, path)
	case reflect.Map:
		return decodeQueryMap(n, v, f, path)
	default:
		return &queryError{path: path, value: n.value, want: "a supported value"}
	}
	return nil
}

// parseQueryFloat accepts decimal and exponent forms and the literals AWS uses for special values
// (Infinity, -Infinity, NaN), but not hexadecimal floats or digit separators.
func parseQueryFloat(s string, bits int) (float64, error) {
	switch s {
	case "Infinity", "+Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r == '.' || r == 'e' || r == 'E' || r == '+' || r == '-') {
			return 0, fmt.Errorf("invalid number %q", s)
		}
	}
	x, err := strconv.ParseFloat(s, bits)
	if err != nil {
		return 0, err
	}
	return x, nil
}

// indexedChildren returns the children of n whose names are 1-based indexes, in index order.
// awsQuery lists may arrive in any order and with gaps; order is by index.
func indexedChildren(n *qnode, path string) ([]*qnode, error) {
	type item struct {
		i int
		n *qnode
	}
	items := make([]item, 0, len(n.children))
	for k, c := range n.children {
		i, err := strconv.Atoi(k)
		if err != nil || i < 1 || k[0] == '+' {
			return nil, &queryError{path: path + "." + k, value: k, want: "a list index (1, 2, …)"}
		}
		items = append(items, item{i, c})
	}
	slices.SortFunc(items, func(a, b item) int { return a.i - b.i })
	out := make([]*qnode, len(items))
	for i, it := range items {
		out[i] = it.n
	}
	return out, nil
}

func decodeQueryList(n *qnode, v reflect.Value, f *field, path string) error {
	if n.children == nil {
		if n.value != "" {
			return &queryError{path: path, value: n.value, want: "a list"}
		}
		v.Set(reflect.MakeSlice(v.Type(), 0, 0)) // "Name=" is the empty-list sentinel
		return nil
	}
	items := n
	if !f.flat {
		items = n.children[f.member]
		if items == nil || len(n.children) != 1 {
			return &queryError{path: path, value: n.value, want: fmt.Sprintf("a list (%s.%s.N)", path, f.member)}
		}
		path += "." + f.member
	}
	elems, err := indexedChildren(items, path)
	if err != nil {
		return err
	}
	s := reflect.MakeSlice(v.Type(), len(elems), len(elems))
	elemField := &field{member: "member", key: "key", value: "value"}
	for i, e := range elems {
		if err := decodeQueryValue(e, s.Index(i), elemField, path+"."+strconv.Itoa(i+1)); err != nil {
			return err
		}
	}
	v.Set(s)
	return nil
}

func decodeQueryMap(n *qnode, v reflect.Value, f *field, path string) error {
	m := reflect.MakeMap(v.Type())
	if n.children == nil {
		if n.value != "" {
			return &queryError{path: path, value: n.value, want: "a map"}
		}
		v.Set(m)
		return nil
	}
	entries := n
	if !f.flat {
		entries = n.children["entry"]
		if entries == nil || len(n.children) != 1 {
			return &queryError{path: path, value: n.value, want: fmt.Sprintf("a map (%s.entry.N.%s)", path, f.key)}
		}
		path += ".entry"
	}
	elems, err := indexedChildren(entries, path)
	if err != nil {
		return err
	}
	elemField := &field{member: "member", key: "key", value: "value"}
	for i, e := range elems {
		p := path + "." + strconv.Itoa(i+1)
		k := e.children[f.key]
		if k == nil {
			return &queryError{path: p + "." + f.key, value: "", want: "present"}
		}
		val := reflect.New(v.Type().Elem()).Elem()
		if c := e.children[f.value]; c != nil {
			if err := decodeQueryValue(c, val, elemField, p+"."+f.value); err != nil {
				return err
			}
		}
		m.SetMapIndex(reflect.ValueOf(k.value).Convert(v.Type().Key()), val)
	}
	v.Set(m)
	return nil
}
