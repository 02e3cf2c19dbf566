package connect

import "testing"

// CommitFaults lets tests fail, reorder and lose the acknowledgements of
// the sink's commits.
type CommitFaults = commitFaultHooks

// SetCommitFaults installs f for every sink of the test's workers until the
// test ends.
func SetCommitFaults(t testing.TB, f *CommitFaults) {
	commitFaults.Store(f)
	t.Cleanup(func() { commitFaults.Store(nil) })
}
