package awsapi

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// field is one member of a shape struct.
type field struct {
	name      string // AWS member name from the json tag
	jsonKey   []byte // `"name":`, pre-rendered for the JSON encoder
	index     []int
	typ       reflect.Type
	omitEmpty bool
	flat      bool
	member    string // list element name, "member" by default
	key       string // map entry key name, "key" by default
	value     string // map entry value name, "value" by default
}

// shape is the cached description of a struct type.
type shape struct {
	fields []field
	byName map[string]*field
}

var (
	timeType  = reflect.TypeFor[Time]()
	bytesType = reflect.TypeFor[[]byte]()
)

// shapeCache memoizes shapeOf; types are few and fixed, so it only grows at startup.
var shapeCache sync.Map // reflect.Type → *shape

// shapeOf describes struct type t. It panics on nothing: unsupported field types are reported by
// checkShape at NewHandler.
func shapeOf(t reflect.Type) *shape {
	if s, ok := shapeCache.Load(t); ok {
		return s.(*shape)
	}
	s := &shape{byName: map[string]*field{}}
	for _, sf := range reflect.VisibleFields(t) {
		if !sf.IsExported() || sf.Anonymous {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		f := field{name: name, index: sf.Index, typ: sf.Type, member: "member", key: "key", value: "value"}
		for _, o := range strings.Split(opts, ",") {
			if o == "omitempty" || o == "omitzero" {
				f.omitEmpty = true
			}
		}
		for _, o := range strings.Split(sf.Tag.Get("aws"), ",") {
			k, v, _ := strings.Cut(o, "=")
			switch k {
			case "flat":
				f.flat = true
			case "member":
				f.member = v
			case "key":
				f.key = v
			case "value":
				f.value = v
			}
		}
		s.fields = append(s.fields, f)
	}
	for i := range s.fields {
		s.byName[s.fields[i].name] = &s.fields[i]
		s.fields[i].jsonKey = append(appendJSONString(nil, s.fields[i].name), ':')
	}
	actual, _ := shapeCache.LoadOrStore(t, s)
	return actual.(*shape)
}

// checkShape verifies that t (a struct) uses only types the codecs support, so that an adapter
// mistake fails at startup rather than on a client's request.
func checkShape(t reflect.Type, seen map[reflect.Type]bool) error {
	if seen[t] {
		return nil
	}
	seen[t] = true
	if t.Kind() != reflect.Struct {
		return fmt.Errorf("%v is not a struct", t)
	}
	for _, f := range shapeOf(t).fields {
		if err := checkType(f.typ, seen); err != nil {
			return fmt.Errorf("%v.%s: %w", t, f.name, err)
		}
	}
	return nil
}

func checkType(t reflect.Type, seen map[reflect.Type]bool) error {
	if t == timeType || t == bytesType {
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Pointer {
			return fmt.Errorf("pointer to pointer %v", t)
		}
		return checkType(t.Elem(), seen)
	case reflect.Slice:
		return checkType(t.Elem(), seen)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return fmt.Errorf("map key %v is not a string", t.Key())
		}
		return checkType(t.Elem(), seen)
	case reflect.Struct:
		return checkShape(t, seen)
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return nil
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return nil // documents (any): JSON/CBOR only
		}
	}
	return fmt.Errorf("unsupported type %v", t)
}

// timeOf reads a Time value without boxing it when v is addressable (the usual case: a field
// reached through a pointer).
func timeOf(v reflect.Value) Time {
	if v.CanAddr() {
		return *v.Addr().Interface().(*Time)
	}
	return v.Interface().(Time)
}
