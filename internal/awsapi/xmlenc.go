package awsapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/trailwatch/trailwatch/internal/javafmt"
)

// xmlWriter renders awsQuery responses. AWS's query services print XML without a declaration and
// without indentation; clients only care about element names.
type xmlWriter struct {
	buf bytes.Buffer
}

func (w *xmlWriter) open(name string) {
	w.buf.WriteByte('<')
	w.buf.WriteString(name)
	w.buf.WriteByte('>')
}
func (w *xmlWriter) close(name string) {
	w.buf.WriteString("</")
	w.buf.WriteString(name)
	w.buf.WriteByte('>')
}
func (w *xmlWriter) empty(name string) {
	w.buf.WriteByte('<')
	w.buf.WriteString(name)
	w.buf.WriteString("/>")
}

// text writes s as escaped character data. Plain printable ASCII, the common case, is copied
// as is; anything else goes through encoding/xml, which also replaces characters XML cannot carry
// by U+FFFD.
func (w *xmlWriter) text(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&' || c == '"' || c == '\'' {
			_ = xml.EscapeText(&w.buf, []byte(s)) // writes to a bytes.Buffer cannot fail
			return
		}
	}
	w.buf.WriteString(s)
}

// xmlns closes a start tag, with the namespace attribute when ns is set.
func (w *xmlWriter) xmlns(ns string) {
	if ns != "" {
		w.buf.WriteString(` xmlns="`)
		w.text(ns)
		w.buf.WriteByte('"')
	}
	w.buf.WriteByte('>')
}

func (w *xmlWriter) element(name, text string) {
	w.open(name)
	w.text(text)
	w.close(name)
}

// encodeQueryResponse renders the awsQuery success document for operation op. An operation without
// an output shape (struct{}) gets no <OpResult> element, as AWS sends for PutMetricAlarm; one whose
// output shape has no members (EmptyResult) gets an empty one.
func encodeQueryResponse(op, ns, requestID string, out reflect.Value) []byte {
	return appendQueryResponse(nil, op, ns, requestID, out)
}

// appendQueryResponse renders into buf, which may come from bufPool.
func appendQueryResponse(buf []byte, op, ns, requestID string, out reflect.Value) []byte {
	w := xmlWriter{buf: *bytes.NewBuffer(buf)}
	w.buf.WriteByte('<')
	w.buf.WriteString(op)
	w.buf.WriteString("Response")
	w.xmlns(ns)
	for out.Kind() == reflect.Pointer {
		out = out.Elem()
	}
	switch {
	case out.Type() == emptyResultType:
		w.empty(op + "Result")
	case len(shapeOf(out.Type()).fields) > 0:
		w.open(op + "Result")
		w.structFields(out)
		w.close(op + "Result")
	}
	w.open("ResponseMetadata")
	w.element("RequestId", requestID)
	w.close("ResponseMetadata")
	w.close(op + "Response")
	return w.buf.Bytes()
}

// encodeQueryError renders the awsQuery error document.
func encodeQueryError(ns, requestID string, e wireError) []byte {
	var w xmlWriter
	w.buf.WriteString("<ErrorResponse")
	w.xmlns(ns)
	w.open("Error")
	if e.sender {
		w.element("Type", "Sender")
	} else {
		w.element("Type", "Receiver")
	}
	w.element("Code", e.code)
	if !e.noMessage {
		w.element("Message", e.message)
	}
	w.close("Error")
	w.element("RequestId", requestID)
	w.close("ErrorResponse")
	return w.buf.Bytes()
}

func (w *xmlWriter) structFields(v reflect.Value) {
	sh := shapeOf(v.Type())
	for i := range sh.fields {
		f := &sh.fields[i]
		fv := v.FieldByIndex(f.index)
		if f.omitEmpty && isEmptyValue(fv) {
			continue
		}
		w.member(f.name, fv, f)
	}
}

// isEmptyValue follows encoding/json's omitempty, plus the zero Time.
func isEmptyValue(v reflect.Value) bool {
	if v.Type() == timeType {
		return timeOf(v).IsZero()
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Map, reflect.String:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	}
	return false
}

// member writes v as element name. Nil pointers are omitted; nil or empty lists and maps become an
// empty element.
func (w *xmlWriter) member(name string, v reflect.Value, f *field) {
	t := v.Type()
	switch {
	case t == timeType:
		w.element(name, formatISO(timeOf(v).Time))
		return
	case t == bytesType:
		w.element(name, base64.StdEncoding.EncodeToString(v.Bytes()))
		return
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		if t.Kind() == reflect.Interface {
			b, err := json.Marshal(v.Interface()) // documents have no XML form; JSON text is the useful one
			if err == nil {
				w.element(name, string(b))
			}
			return
		}
		w.member(name, v.Elem(), f)
	case reflect.String:
		w.element(name, v.String())
	case reflect.Bool:
		w.element(name, strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w.open(name)
		w.buf.Write(strconv.AppendInt(w.buf.AvailableBuffer(), v.Int(), 10))
		w.close(name)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		w.open(name)
		w.buf.Write(strconv.AppendUint(w.buf.AvailableBuffer(), v.Uint(), 10))
		w.close(name)
	case reflect.Float32, reflect.Float64:
		w.element(name, formatJavaDouble(v.Float()))
	case reflect.Struct:
		w.open(name)
		w.structFields(v)
		w.close(name)
	case reflect.Slice:
		w.list(name, v, f)
	case reflect.Map:
		w.xmlMap(name, v, f)
	}
}

func (w *xmlWriter) list(name string, v reflect.Value, f *field) {
	elem := &field{member: "member", key: "key", value: "value"}
	if f.flat {
		item := name
		if f.member != "member" {
			item = f.member
		}
		for i := range v.Len() {
			w.member(item, v.Index(i), elem)
		}
		return
	}
	if v.Len() == 0 {
		w.empty(name)
		return
	}
	w.open(name)
	for i := range v.Len() {
		w.member(f.member, v.Index(i), elem)
	}
	w.close(name)
}

func (w *xmlWriter) xmlMap(name string, v reflect.Value, f *field) {
	keys := v.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	elem := &field{member: "member", key: "key", value: "value"}
	writeEntry := func(k reflect.Value) {
		w.element(f.key, k.String())
		w.member(f.value, v.MapIndex(k), elem)
	}
	if f.flat {
		for _, k := range keys {
			w.open(name)
			writeEntry(k)
			w.close(name)
		}
		return
	}
	if len(keys) == 0 {
		w.empty(name)
		return
	}
	w.open(name)
	for _, k := range keys {
		w.open("entry")
		writeEntry(k)
		w.close("entry")
	}
	w.close(name)
}

// formatJavaDouble prints f the way Java's Double.toString does, which is how AWS's query services
// print doubles in XML: "1.0", "21.5", "1.6E10", "1.0E-4", "NaN", "Infinity".
func formatJavaDouble(f float64) string { return javafmt.Double(f) }
