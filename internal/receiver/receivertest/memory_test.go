package receivertest

import "testing"

func TestMemoryConformance(t *testing.T) {
	Run(t, func(t *testing.T) Store { return NewMemory() })
}
