//go:build !unix

package fileident

import "os"

// Of has no device and inode to go by here; os.SameFile-style
// identity is not available as a string, so rotation is noticed by size only.
func Of(fi os.FileInfo) string { return "" }

// Deleted cannot tell here; it reports false.
func Deleted(fi os.FileInfo) bool { return false }
