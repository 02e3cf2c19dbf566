//go:build linux || darwin || freebsd

package storage

import "syscall"

// DiskSpace is the size of the file system holding dir and the bytes
// available to an unprivileged user there (statfs).
func DiskSpace(dir string) (total, usable int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return -1, -1, err
	}
	return int64(st.Blocks) * int64(st.Bsize), int64(st.Bavail) * int64(st.Bsize), nil
}
