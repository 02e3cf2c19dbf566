package storage

import (
	"path/filepath"

	"github.com/tributary-io/tributary/config/atomicfile"
)

// tmpSuffix marks a file being written; such files are removed when a log
// opens, since they were never renamed into place.
const tmpSuffix = atomicfile.TempSuffix

// WriteFileAtomic writes data to dir/name so that after a crash the file
// holds either its old contents or all of data (atomicfile.Write).
func WriteFileAtomic(dir, name string, data []byte) error {
	return atomicfile.Write(filepath.Join(dir, name), data, 0o644)
}

// writeFileSynced is WriteFileAtomic without the final directory fsync,
// for callers that rename several files and fsync the directory once.
func writeFileSynced(dir, name string, data []byte) error {
	return atomicfile.Replace(filepath.Join(dir, name), data, 0o644)
}

// SyncDir fsyncs a directory, making the creation, removal and renaming of
// its entries durable.
func SyncDir(dir string) error { return atomicfile.SyncDir(dir) }
