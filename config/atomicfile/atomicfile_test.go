package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// mustRead returns the contents of path.
func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noTemp fails the test if path's temporary file exists.
func noTemp(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path + TempSuffix); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temporary file %s left behind: %v", path+TempSuffix, err)
	}
}

// writeAndRead writes data to path and checks that the file holds it and
// that no temporary file stays.
func writeAndRead(t *testing.T, path, data string) {
	t.Helper()
	if err := Write(path, []byte(data), 0o640); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); got != data {
		t.Fatalf("after writing %q the file holds %q", data, got)
	}
	noTemp(t, path)
}

func TestWriteCreatesAndReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	writeAndRead(t, path, "one\n")
	if fi, _ := os.Stat(path); fi.Mode().Perm()&^0o640 != 0 {
		t.Errorf("mode %v, want at most 0640", fi.Mode().Perm())
	}
	writeAndRead(t, path, "two\n")
	writeAndRead(t, path, "")
}

// A temporary file left by a crash is overwritten, whatever it held.
func TestWriteOverwritesLeftover(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(path+TempSuffix, []byte("a torn write from before a crash, longer than the new data"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeAndRead(t, path, "new")
}

// A path that is a directory cannot be replaced: the error says so, the
// directory is untouched and no temporary file stays.
func TestWritePathIsDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(filepath.Join(path, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := Write(path, []byte("x"), 0o644)
	var le *os.LinkError
	if !errors.As(err, &le) || le.Op != "rename" {
		t.Fatalf("writing over a directory: %v, want a rename error", err)
	}
	if fi, err := os.Stat(filepath.Join(path, "inside")); err != nil || !fi.IsDir() {
		t.Errorf("the directory was changed: %v", err)
	}
	noTemp(t, path)
}

// When the temporary file cannot be created, the old file stays as it was.
func TestWriteCannotCreateTemp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state")
	if err := Write(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A directory where the temporary file goes.
	if err := os.MkdirAll(filepath.Join(path+TempSuffix, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := Write(path, []byte("new"), 0o644)
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != path+TempSuffix {
		t.Fatalf("got %v, want an error naming %s", err, path+TempSuffix)
	}
	if got := mustRead(t, path); got != "old" {
		t.Fatalf("the old file now holds %q", got)
	}
}

// In a directory that is not writable nothing is written, and the old
// file stays as it was.
func TestWriteDirectoryNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes to any directory")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	if err := Write(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if err := Write(path, []byte("new"), 0o644); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("got %v, want a permission error", err)
	}
	if got := mustRead(t, path); got != "old" {
		t.Fatalf("the old file now holds %q", got)
	}
	noTemp(t, path)
}

// Replace puts the file in place without fsyncing the directory; SyncDir
// does that, and fails for a directory that does not exist.
func TestReplaceAndSyncDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	if err := Replace(path, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); got != "data" {
		t.Fatalf("got %q", got)
	}
	noTemp(t, path)
	if err := SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := SyncDir(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("fsync of a missing directory: %v", err)
	}
	if err := Write(filepath.Join(dir, "missing", "state"), []byte("x"), 0o644); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("write into a missing directory: %v", err)
	}
}

// TestReplaceFromFailingFill: when the writer of the contents fails, the
// file keeps its old contents and no temporary file is left.
func TestReplaceFromFailingFill(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := Write(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := ReplaceFrom(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("half of the new"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("ReplaceFrom: %v, want the fill's error", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("file holds %q after a failed fill", b)
	}
	if _, err := os.Stat(p + TempSuffix); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temporary file left: %v", err)
	}
}
