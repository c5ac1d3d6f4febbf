package sns

import (
	"testing"

	"github.com/google/uuid"
)

// TestNewUUID checks that message ids and subscription ARN suffixes are distinct random (version 4,
// RFC 9562 variant) UUIDs in the canonical lower-case form SNS shows.
func TestNewUUID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s := newUUID()
		u, err := uuid.Parse(s)
		if err != nil || u.Version() != 4 || u.Variant() != uuid.RFC4122 || u.String() != s || len(s) != 36 {
			t.Fatalf("newUUID() = %q: not a canonical version 4 UUID (%v)", s, err)
		}
		if seen[s] {
			t.Fatalf("newUUID() repeated %q", s)
		}
		seen[s] = true
	}
}
