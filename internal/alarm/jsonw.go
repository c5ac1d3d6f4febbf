package alarm

import (
	"bytes"
	"encoding/json"
	"strings"
)

// object writes a JSON object with keys in insertion order. CloudWatch's JSON (StateReasonData,
// SNS messages, history data) has a fixed key order that byte-exact tests depend on, which a Go
// map or struct tags with omitempty cannot express for the null-vs-absent rules involved.
type object struct {
	b     strings.Builder
	first bool
}

func newObject() *object {
	o := &object{first: true}
	o.b.WriteByte('{')
	return o
}

func (o *object) key(k string) {
	if !o.first {
		o.b.WriteByte(',')
	}
	o.first = false
	o.b.WriteString(jsonString(k))
	o.b.WriteByte(':')
}

// raw adds a value that is already JSON.
func (o *object) raw(k, v string) *object { o.key(k); o.b.WriteString(v); return o }

func (o *object) str(k, v string) *object { return o.raw(k, jsonString(v)) }

// strOrNull writes null for "" — CloudWatch's convention for unset optional strings in SNS messages.
func (o *object) strOrNull(k, v string) *object {
	if v == "" {
		return o.raw(k, "null")
	}
	return o.str(k, v)
}

func (o *object) num(k string, v float64) *object { return o.raw(k, javaDouble(v)) }

func (o *object) boolean(k string, v bool) *object {
	if v {
		return o.raw(k, "true")
	}
	return o.raw(k, "false")
}

func (o *object) strs(k string, l []string) *object {
	parts := make([]string, len(l))
	for i, s := range l {
		parts[i] = jsonString(s)
	}
	return o.raw(k, "["+strings.Join(parts, ",")+"]")
}

// String closes the object and returns its JSON text.
func (o *object) String() string { return o.b.String() + "}" }

// jsonString quotes s as a JSON string without Go's HTML escaping, as Jackson writes it.
func jsonString(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return `"` + s + `"`
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	return strings.TrimSuffix(buf.String(), "\n")
}
