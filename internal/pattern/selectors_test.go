package pattern

import (
	"slices"
	"testing"
)

func TestSelectors(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []string
	}{
		{CIS()[0].Pattern, []string{"$.userIdentity.type", "$.userIdentity.invokedBy", "$.eventType"}},
		{`{ ($.eventName = "ConsoleLogin") || ($.eventName = "x" && $.a[0].b = 1) }`, []string{"$.eventName", "$.a[0].b"}},
		{`ERROR`, nil},
		{`[ip, user, status = 404]`, nil},
	} {
		p, err := Compile(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Selectors(); !slices.Equal(got, tc.want) {
			t.Errorf("Selectors(%s) = %q, want %q", tc.src, got, tc.want)
		}
	}
}
