package storage

import (
	"fmt"
	"os"
	"path/filepath"
)

// tmpSuffix marks a file being written; such files are removed when a log
// opens, since they were never renamed into place.
const tmpSuffix = ".tmp"

// WriteFileAtomic writes data to dir/name so that after a crash the file
// holds either its old contents or all of data: it writes name.tmp, fsyncs
// it, renames it over name and fsyncs dir.
func WriteFileAtomic(dir, name string, data []byte) error {
	if err := writeFileSynced(dir, name, data); err != nil {
		return err
	}
	return SyncDir(dir)
}

// writeFileSynced is WriteFileAtomic without the final directory fsync,
// for callers that rename several files and fsync the directory once.
func writeFileSynced(dir, name string, data []byte) error {
	path := filepath.Join(dir, name)
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// SyncDir fsyncs a directory, making the creation, removal and renaming of
// its entries durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
