// Package atomicfile writes a file whole or not at all: after a crash at
// any moment the file holds either its old contents or all of the new
// ones, never a mix or a torn tail.
//
// Write writes the data to a temporary file in the same directory (the
// file's name with TempSuffix appended), fsyncs it, renames it over the
// file and fsyncs the directory, so that the rename itself survives a
// crash. On an error before the rename the temporary file is removed and
// the old file is left as it was.
//
// The temporary name is fixed, not random: the leftover of a crash is
// overwritten by the next write, and whoever lists the directory can tell
// leftovers by their suffix. Writers of one path must therefore take
// turns; the package does not lock.
//
// Errors are those of package os (*fs.PathError, *os.LinkError), which
// name the operation and the file.
//
// The package imports nothing but the standard library, so that any
// package that keeps state in files may use it.
package atomicfile

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// TempSuffix ends the name of the temporary file that Write and Replace
// write before renaming it into place: path + TempSuffix.
const TempSuffix = ".tmp"

// Write replaces the file at path with data, atomically and durably: when
// it returns nil, the new contents are on disk under that name. perm is
// the mode of a newly created file (before the umask), as in os.WriteFile.
func Write(path string, data []byte, perm fs.FileMode) error {
	if err := Replace(path, data, perm); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// Replace is Write without the final fsync of the directory: the file
// holds the new data, fsynced, under its name, but a crash may undo the
// rename until the directory is fsynced (SyncDir). It serves callers that
// replace several files of one directory and fsync it once, and callers
// that must know whether the rename happened: when Replace fails, it did
// not, and no temporary file is left behind.
func Replace(path string, data []byte, perm fs.FileMode) error {
	return ReplaceFrom(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// ReplaceFrom is Replace with the contents written by fill, for data
// streamed rather than held in memory (a file compressed or decompressed
// into place). An error from fill leaves path as it was.
func ReplaceFrom(path string, perm fs.FileMode, fill func(io.Writer) error) (err error) {
	tmp := path + TempSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// SyncDir fsyncs a directory, making the creation, removal and renaming
// of its entries durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
