package web

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestFlatten(t *testing.T) {
	got := flatten(`{"a":{"b":"x","c":[1,{"d":null}]},"e":true}`, map[string]bool{"$.a.b": true, "$.z": true})
	want := []field{
		{Path: "$.a.b", Value: "x", Tested: true}, {Path: "$.a.c[0]", Value: "1"}, {Path: "$.a.c[1].d", Value: "null"},
		{Path: "$.e", Value: "true"}, {Path: "$.z", Value: "(absent)", Tested: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("flatten = %+v\nwant %+v", got, want)
	}
	if got := flatten("not json", nil); got != nil {
		t.Errorf("flatten of text = %v", got)
	}
}

// FuzzFlatten checks that flatten never panics and that every leaf of a JSON object is listed.
func FuzzFlatten(f *testing.F) {
	f.Add(`{"a":{"b":[1,2,{"c":"d"}]}}`)
	f.Add(`{"a":`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, msg string) {
		fields := flatten(msg, map[string]bool{"$.a": true})
		var v map[string]any
		if json.Unmarshal([]byte(msg), &v) != nil || len(fields) == 0 {
			return
		}
		leaves := 0
		var count func(any)
		count = func(x any) {
			switch y := x.(type) {
			case map[string]any:
				for _, c := range y {
					count(c)
				}
			case []any:
				for _, c := range y {
					count(c)
				}
			default:
				leaves++
			}
		}
		count(v)
		listed := 0
		for _, fl := range fields {
			if fl.Value != "(absent)" {
				listed++
			}
		}
		if listed < leaves {
			t.Errorf("flatten(%q) listed %d leaves, the object has %d", msg, listed, leaves)
		}
	})
}
