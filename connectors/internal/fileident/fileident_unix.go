//go:build unix

package fileident

import (
	"os"
	"strconv"
	"syscall"
)

// Of returns a file's device and inode as "dev:ino": the same file
// keeps it across renames, a new file at the same path gets another.
func Of(fi os.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return strconv.FormatUint(uint64(st.Dev), 10) + ":" + strconv.FormatUint(uint64(st.Ino), 10)
}

// Deleted reports whether an open file has no name left.
func Deleted(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0
}
