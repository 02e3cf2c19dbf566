//go:build !linux

package storage

import (
	"errors"
	"os"
	"syscall"
)

// datasync flushes f's data to stable storage.
func datasync(f *os.File) error { return f.Sync() }

// isNoSpace reports whether err says the disk is full.
func isNoSpace(err error) bool { return errors.Is(err, syscall.ENOSPC) }
