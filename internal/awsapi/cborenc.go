package awsapi

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
)

// cborWriter renders RPC v2 CBOR response bodies with the same member rules as the JSON and XML
// encoders: nil pointers are never sent (not even as CBOR null, which smithy-go's deserializer
// does not accept for every member type), nil lists and maps of members without omitempty are sent
// empty, and Time is tag 1 around a float64. Maps are definite-length; map keys of Go maps are sorted so that
// responses are deterministic.
type cborWriter struct {
	buf []byte
}

const (
	cborUint   = 0 << 5
	cborNegInt = 1 << 5
	cborBytes  = 2 << 5
	cborText   = 3 << 5
	cborArray  = 4 << 5
	cborMap    = 5 << 5
	cborTag    = 6 << 5
	cborSimple = 7 << 5
)

// encodeCBOR renders v (a pointer to a struct) as an RPC v2 CBOR body.
func encodeCBOR(v any) ([]byte, error) { return appendCBOR(make([]byte, 0, 256), v) }

// appendCBOR renders v into buf, which may come from bufPool.
func appendCBOR(buf []byte, v any) ([]byte, error) {
	w := cborWriter{buf: buf}
	if err := w.value(reflect.ValueOf(v)); err != nil {
		return nil, err
	}
	return w.buf, nil
}

// head appends a major type with its argument in the shortest form.
func (w *cborWriter) head(major byte, n uint64) {
	switch {
	case n < 24:
		w.buf = append(w.buf, major|byte(n))
	case n <= math.MaxUint8:
		w.buf = append(w.buf, major|24, byte(n))
	case n <= math.MaxUint16:
		w.buf = binary.BigEndian.AppendUint16(append(w.buf, major|25), uint16(n))
	case n <= math.MaxUint32:
		w.buf = binary.BigEndian.AppendUint32(append(w.buf, major|26), uint32(n))
	default:
		w.buf = binary.BigEndian.AppendUint64(append(w.buf, major|27), n)
	}
}

func (w *cborWriter) int(i int64) {
	if i >= 0 {
		w.head(cborUint, uint64(i))
	} else {
		w.head(cborNegInt, uint64(-(i + 1)))
	}
}

func (w *cborWriter) text(s string) {
	w.head(cborText, uint64(len(s)))
	w.buf = append(w.buf, s...)
}

func (w *cborWriter) float64(f float64) {
	w.buf = binary.BigEndian.AppendUint64(append(w.buf, cborSimple|27), math.Float64bits(f))
}

func (w *cborWriter) value(v reflect.Value) error {
	t := v.Type()
	switch {
	case t == timeType:
		w.head(cborTag, 1)
		w.float64(epochOf(timeOf(v).Time)) // always a float64, whole seconds too, as AWS sends them
		return nil
	case t == bytesType:
		w.head(cborBytes, uint64(v.Len()))
		w.buf = append(w.buf, v.Bytes()...)
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			w.buf = append(w.buf, cborSimple|22) // null; only reachable for list elements and map values
			return nil
		}
		return w.value(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			w.buf = append(w.buf, cborSimple|22)
			return nil
		}
		b, err := cborEnc.Marshal(v.Interface())
		if err != nil {
			return fmt.Errorf("encode document: %w", err)
		}
		w.buf = append(w.buf, b...)
	case reflect.String:
		w.text(v.String())
	case reflect.Bool:
		if v.Bool() {
			w.buf = append(w.buf, cborSimple|21)
		} else {
			w.buf = append(w.buf, cborSimple|20)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w.int(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		w.head(cborUint, v.Uint())
	case reflect.Float32:
		w.buf = binary.BigEndian.AppendUint32(append(w.buf, cborSimple|26), math.Float32bits(float32(v.Float())))
	case reflect.Float64:
		w.float64(v.Float())
	case reflect.Struct:
		return w.object(v)
	case reflect.Slice:
		w.head(cborArray, uint64(v.Len()))
		for i := range v.Len() {
			if err := w.value(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		w.head(cborMap, uint64(len(keys)))
		for _, k := range keys {
			w.text(k.String())
			if err := w.value(v.MapIndex(k)); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("encode %v: unsupported type", t)
	}
	return nil
}

func (w *cborWriter) object(v reflect.Value) error {
	sh := shapeOf(v.Type())
	n := 0
	for i := range sh.fields {
		if sendMember(&sh.fields[i], v.FieldByIndex(sh.fields[i].index)) {
			n++
		}
	}
	w.head(cborMap, uint64(n))
	for i := range sh.fields {
		f := &sh.fields[i]
		fv := v.FieldByIndex(f.index)
		if !sendMember(f, fv) {
			continue
		}
		w.text(f.name)
		if err := w.value(fv); err != nil {
			return err
		}
	}
	return nil
}

// sendMember reports whether a struct member is sent in JSON and CBOR: never when nil, and not
// when empty if the member is omitempty.
func sendMember(f *field, v reflect.Value) bool {
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		return false
	}
	return !f.omitEmpty || !isEmptyValue(v)
}
