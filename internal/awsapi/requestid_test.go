package awsapi

import (
	"testing"

	"github.com/google/uuid"
)

// TestNewRequestID checks that request ids are canonical random (version 4) UUIDs, the form of
// AWS's x-amzn-RequestId.
func TestNewRequestID(t *testing.T) {
	a, b := newRequestID(), newRequestID()
	for _, s := range []string{a, b} {
		u, err := uuid.Parse(s)
		if err != nil || u.Version() != 4 || u.Variant() != uuid.RFC4122 || u.String() != s {
			t.Fatalf("newRequestID() = %q: not a canonical version 4 UUID (%v)", s, err)
		}
	}
	if a == b {
		t.Fatalf("newRequestID() repeated %q", a)
	}
}
