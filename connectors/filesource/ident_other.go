//go:build !unix

package filesource

import "os"

// identityOf has no device and inode to go by here; os.SameFile-style
// identity is not available as a string, so rotation is noticed by size only.
func identityOf(fi os.FileInfo) string { return "" }

func deleted(fi os.FileInfo) bool { return false }
