//go:build !(linux || darwin || freebsd)

package storage

import "errors"

// DiskSpace is not known on this platform.
func DiskSpace(dir string) (total, usable int64, err error) {
	return -1, -1, errors.New("disk space is not known on this platform")
}
