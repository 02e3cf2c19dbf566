// Package filelock holds a lock file for as long as a process uses what it
// guards, the way Kafka holds the .lock file of each log dir: a second
// process (or a second user within one process) asking for the same lock
// is refused at once, with an error naming the file and the pid that holds
// it, instead of both writing the same files and losing data.
//
// The lock is an advisory flock(2) on the file, so it ends with the
// process however that ends (kill -9 included): a stale file left behind
// is no obstacle. The holder's pid is written into the file for the error
// message only. On systems without flock the file is written but not
// locked.
package filelock

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Lock is a held lock file.
type Lock struct {
	f    *os.File
	path string
}

// HeldError says that another holder has the lock.
type HeldError struct {
	Path string
	PID  int // 0 when the file does not say
}

func (e *HeldError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("%s is held by another process (pid %d)", e.Path, e.PID)
	}
	return fmt.Sprintf("%s is held by another process", e.Path)
}

// Acquire takes the lock file at path, creating it if needed, and writes
// this process's pid into it. It fails with a *HeldError when the lock is
// held, or with the os error that kept it from opening the file.
func Acquire(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if held {
		b, _ := os.ReadFile(path)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		f.Close()
		return nil, &HeldError{Path: path, PID: pid}
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f, path: path}, nil
}

// Release gives the lock up; the file stays. Releasing twice, or a nil
// Lock, does nothing.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor ends the flock
	l.f = nil
	return err
}
