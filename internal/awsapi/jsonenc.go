package awsapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// jsonEncFn appends the awsJson form of v to b.
type jsonEncFn func(b []byte, v reflect.Value) ([]byte, error)

// jsonEncoders caches one compiled encoder per type. awsJson differs from encoding/json in three
// ways, which is why it has its own encoder: nil lists and maps of members without omitempty are
// sent as [] and {}, nil pointers are never sent (not even as null), and NaN/Infinity are the
// strings "NaN", "Infinity" and "-Infinity". Compiling per type keeps the reflection dispatch out
// of the per-value path.
var jsonEncoders sync.Map // reflect.Type → jsonEncFn

// encodeJSON renders v (a pointer to a struct) as an awsJson body.
func encodeJSON(v any) ([]byte, error) { return appendJSON(make([]byte, 0, 256), v) }

// appendJSON renders v into buf, which may come from bufPool.
func appendJSON(buf []byte, v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	return jsonEncoderOf(rv.Type())(buf, rv)
}

// jsonEncoderOf returns the cached encoder of t, compiling it on first use. A recursive type
// finds a forwarding placeholder for itself while it is being compiled.
func jsonEncoderOf(t reflect.Type) jsonEncFn {
	if f, ok := jsonEncoders.Load(t); ok {
		return f.(jsonEncFn)
	}
	var (
		wg   sync.WaitGroup
		real jsonEncFn
	)
	wg.Add(1)
	placeholder := jsonEncFn(func(b []byte, v reflect.Value) ([]byte, error) {
		wg.Wait()
		return real(b, v)
	})
	if f, loaded := jsonEncoders.LoadOrStore(t, placeholder); loaded {
		return f.(jsonEncFn)
	}
	real = compileJSONEncoder(t)
	wg.Done()
	jsonEncoders.Store(t, real)
	return real
}

func compileJSONEncoder(t reflect.Type) jsonEncFn {
	switch {
	case t == timeType:
		return func(b []byte, v reflect.Value) ([]byte, error) { return appendEpoch(b, timeOf(v).Time), nil }
	case t == bytesType:
		return func(b []byte, v reflect.Value) ([]byte, error) {
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, v.Bytes())
			return append(b, '"'), nil
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := jsonEncoderOf(t.Elem())
		return func(b []byte, v reflect.Value) ([]byte, error) {
			if v.IsNil() {
				return append(b, "null"...), nil // only reachable inside lists and maps
			}
			return elem(b, v.Elem())
		}
	case reflect.Interface:
		return func(b []byte, v reflect.Value) ([]byte, error) {
			if v.IsNil() {
				return append(b, "null"...), nil
			}
			doc, err := json.Marshal(v.Interface())
			if err != nil {
				return nil, fmt.Errorf("encode document: %w", err)
			}
			return append(b, doc...), nil
		}
	case reflect.String:
		return func(b []byte, v reflect.Value) ([]byte, error) { return appendJSONString(b, v.String()), nil }
	case reflect.Bool:
		return func(b []byte, v reflect.Value) ([]byte, error) { return strconv.AppendBool(b, v.Bool()), nil }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(b []byte, v reflect.Value) ([]byte, error) { return strconv.AppendInt(b, v.Int(), 10), nil }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return func(b []byte, v reflect.Value) ([]byte, error) { return strconv.AppendUint(b, v.Uint(), 10), nil }
	case reflect.Float32, reflect.Float64:
		bits := t.Bits()
		return func(b []byte, v reflect.Value) ([]byte, error) { return appendJSONFloat(b, v.Float(), bits), nil }
	case reflect.Struct:
		return compileJSONStruct(t)
	case reflect.Slice:
		elem := jsonEncoderOf(t.Elem())
		return func(b []byte, v reflect.Value) ([]byte, error) {
			b = append(b, '[')
			var err error
			for i := range v.Len() {
				if i > 0 {
					b = append(b, ',')
				}
				if b, err = elem(b, v.Index(i)); err != nil {
					return nil, err
				}
			}
			return append(b, ']'), nil
		}
	case reflect.Map:
		elem := jsonEncoderOf(t.Elem())
		return func(b []byte, v reflect.Value) ([]byte, error) {
			keys := v.MapKeys()
			slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
			b = append(b, '{')
			var err error
			for i, k := range keys {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, k.String())
				b = append(b, ':')
				if b, err = elem(b, v.MapIndex(k)); err != nil {
					return nil, err
				}
			}
			return append(b, '}'), nil
		}
	}
	return func([]byte, reflect.Value) ([]byte, error) { return nil, fmt.Errorf("encode %v: unsupported type", t) }
}

// jsonMember is one compiled struct member.
type jsonMember struct {
	f   *field
	enc jsonEncFn
}

func compileJSONStruct(t reflect.Type) jsonEncFn {
	sh := shapeOf(t)
	members := make([]jsonMember, len(sh.fields))
	for i := range sh.fields {
		members[i] = jsonMember{f: &sh.fields[i], enc: jsonEncoderOf(sh.fields[i].typ)}
	}
	return func(b []byte, v reflect.Value) ([]byte, error) {
		b = append(b, '{')
		first := true
		var err error
		for i := range members {
			m := &members[i]
			fv := v.FieldByIndex(m.f.index)
			if !sendMember(m.f, fv) {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, m.f.jsonKey...)
			if b, err = m.enc(b, fv); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
}
