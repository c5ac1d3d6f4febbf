package alarm

import "errors"

// Fence is the proof that a write is made by the holder of a lease: the lease's name and the
// fencing token it was granted with. Several replicas on one database evaluate alarms under one
// lease; a replica that paused (a long GC, a frozen VM) past its lease's expiry may still believe it
// holds it, so every transition the scheduler writes carries the Fence it evaluated under, and the
// store refuses it (ErrFenced) once another replica has been granted the lease, whose token is
// larger. A single-process store (SQLite) has no rival writer and ignores fences.
type Fence struct {
	Lease string
	Token int64
}

// ErrFenced is returned (wrapped) by Store.Apply for a change whose Fence is no longer the lease's
// current grant: the write is dropped, and the scheduler stops evaluating until it holds the
// lease again.
var ErrFenced = errors.New("lease held by another replica: write fenced off")

// Leader tells the scheduler whether this replica may evaluate alarms now, and under which fence.
// Without one (Service.Leader nil) the process is the only evaluator, as with SQLite.
type Leader interface {
	// Fence returns the current grant of the evaluation lease, and false while this replica
	// does not hold it.
	Fence() (Fence, bool)
}
