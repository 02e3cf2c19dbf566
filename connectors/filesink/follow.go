package filesink

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/tributary-io/tributary/config/atomicfile"
	"github.com/tributary-io/tributary/connectors/internal/fileident"
)

// followInterval is how often an idle task checks that its path still
// names the file it writes; a task that writes checks before every write.
const followInterval = time.Second

// watch checks the path every followInterval until Stop, so that a file
// renamed or deleted while nothing is written is noticed (and the path
// reopened) within a second.
func (t *Task) watch() {
	defer close(t.watchDone)
	tick := time.NewTicker(followInterval)
	defer tick.Stop()
	var last string
	for {
		select {
		case <-t.stopped:
			return
		case <-tick.C:
		}
		t.mu.Lock()
		if t.open && t.f != nil {
			if err := t.followLocked(); err != nil && err.Error() != last {
				last = err.Error()
				t.log.Error("cannot follow the sink file", "err", err)
			}
		}
		t.mu.Unlock()
	}
}

// followLocked makes sure the path still names the file being written; t.mu
// is held. A file renamed away or deleted (logrotate, a user cleaning up)
// or replaced by another is left as it is and the path is opened again,
// created if missing: what was written before stays where it went, what
// follows goes to the path. A file truncated under the writer
// (copytruncate) is appended to at its new end.
func (t *Task) followLocked() error {
	if t.f == nil {
		return nil
	}
	fi, err := os.Stat(t.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return t.reopenLocked("was renamed away or deleted")
	case err != nil:
		return nil // cannot tell: keep writing to the open file
	case !os.SameFile(fi, t.fi):
		return t.reopenLocked("was replaced by another file")
	}
	pending := int64(len(t.buf) - t.off)
	if written := t.size - pending; fi.Size() < written {
		t.log.Warn("the sink file was truncated by someone else (copytruncate?); appending at its new end", "size", fi.Size(), "written", written)
		t.size = fi.Size() + pending
	}
	return nil
}

// unlinkedLocked reports whether the open file has lost its last name.
func (t *Task) unlinkedLocked() bool {
	if t.f == nil {
		return false
	}
	fi, err := t.f.Stat()
	return err == nil && fileident.Deleted(fi)
}

// reopenLocked fsyncs and closes the file being written and opens the path
// again (creating it); t.mu is held.
func (t *Task) reopenLocked(why string) error {
	f, err := os.OpenFile(t.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("the sink file %s %s, and opening it again failed: %w", t.path, why, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat %s: %w", t.path, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(t.path)); err != nil {
		t.log.Warn("fsync of the sink file's folder failed; after a crash the reopened file may be missing", "err", err)
	}
	old := t.f
	if err := old.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
		t.log.Warn("fsync of the sink file that left its path failed", "err", err)
	}
	old.Close()
	t.f, t.out, t.fi = f, f, fi
	t.size = fi.Size() + int64(len(t.buf)-t.off)
	t.log.Info("the sink file "+why+"; writing to the file at its path from now on", "size", fi.Size())
	return nil
}
