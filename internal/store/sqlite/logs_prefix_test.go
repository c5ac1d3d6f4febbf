package sqlite

import "testing"

// TestPrefixSuccessor pins the upper bound of prefix ranges: the last byte below 0xFF is
// incremented and what follows it dropped; a prefix of 0xFF bytes only has no upper bound.
func TestPrefixSuccessor(t *testing.T) {
	for _, c := range []struct {
		prefix, want string
		ok           bool
	}{
		{"web", "wec", true},
		{"é", "ê", true},
		{"ルート/", "ルート0", true},
		{"😀", "😁", true},
		{"a\xff\xff", "b", true},
		{"\xff", "", false},
	} {
		got, ok := prefixSuccessor(c.prefix)
		if got != c.want || ok != c.ok {
			t.Errorf("prefixSuccessor(%q) = %q, %v; want %q, %v", c.prefix, got, ok, c.want, c.ok)
		}
	}
}
