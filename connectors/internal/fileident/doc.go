// Package fileident tells files apart the way the file connectors need:
// by device and inode, which a file keeps across renames and a new file at
// the same path does not share, and whether an open file still has a name.
package fileident
