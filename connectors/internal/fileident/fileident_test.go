//go:build unix

package fileident

import (
	"os"
	"path/filepath"
	"testing"
)

func TestIdentityAndDeleted(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	before, _ := f.Stat()
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	renamed, err := os.Stat(p + ".1")
	if err != nil {
		t.Fatal(err)
	}
	if Of(before) == "" || Of(before) != Of(renamed) {
		t.Fatalf("a renamed file's identity changed: %q then %q", Of(before), Of(renamed))
	}
	g, err := os.Create(p) // the first file still exists: its inode is not free
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	other, _ := os.Stat(p)
	if Of(other) == Of(before) {
		t.Fatalf("a new file has the identity %q of another", Of(other))
	}
	if fi, _ := f.Stat(); Deleted(fi) {
		t.Fatal("a renamed file is reported deleted")
	}
	if err := os.Remove(p + ".1"); err != nil {
		t.Fatal(err)
	}
	if fi, _ := f.Stat(); !Deleted(fi) {
		t.Fatal("an open file without a name is not reported deleted")
	}
}
