package filesource

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// pattern is one entry of files or files.exclude: a path whose segments may
// hold the wildcards of filepath.Match (*, ?, [...]), and ** for any number
// of folders.
type pattern struct {
	text string
	root string   // the folders before the first wildcard
	segs []string // the rest, one folder or name each
	base bool     // an exclude without a separator: matched against base names
	// compressed: the last segment names compressed files on purpose
	// (ends in one of their extensions), so they are read.
	compressed bool
}

// compressedExts are the extensions of compressed rotated copies, which a
// pattern does not match unless it names them.
var compressedExts = []string{".gz", ".bz2", ".xz", ".zst", ".lz4", ".zip", ".Z"}

func isCompressed(name string) bool {
	for _, ext := range compressedExts {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// parsePattern checks and splits one pattern. Exclusions without a
// separator match base names, as in files.exclude=*.gz.
func parsePattern(text string, exclude bool) (pattern, error) {
	p := pattern{text: text}
	if text == "" {
		return p, errors.New("is empty")
	}
	if exclude && !strings.ContainsRune(text, filepath.Separator) {
		if _, err := filepath.Match(text, ""); err != nil {
			return p, fmt.Errorf("is not a valid pattern: %w", err)
		}
		p.base, p.segs = true, []string{text}
		return p, nil
	}
	clean := filepath.Clean(text)
	parts := strings.Split(clean, string(filepath.Separator))
	i := 0
	for i < len(parts) && !hasMeta(parts[i]) {
		i++
	}
	if i == len(parts) {
		i-- // no wildcard: the last segment is the file's name
	}
	p.root = strings.Join(parts[:i], string(filepath.Separator))
	switch {
	case p.root == "" && strings.HasPrefix(clean, string(filepath.Separator)):
		p.root = string(filepath.Separator)
	case p.root == "":
		p.root = "."
	}
	p.segs = parts[i:]
	for _, s := range p.segs {
		if s == "**" {
			continue
		}
		if strings.Contains(s, "**") {
			return p, fmt.Errorf("has ** inside a name (%q); ** stands alone between separators, for any number of folders", s)
		}
		if _, err := filepath.Match(s, ""); err != nil {
			return p, fmt.Errorf("is not a valid pattern: %w", err)
		}
	}
	if p.segs[len(p.segs)-1] == "**" {
		return p, errors.New("ends with **; name the files after it, as in /var/log/**/*.log")
	}
	p.compressed = isCompressed(p.segs[len(p.segs)-1])
	return p, nil
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// matches reports whether path (cleaned) is matched by the pattern.
func (p *pattern) matches(path string) bool {
	if p.base {
		ok, _ := filepath.Match(p.segs[0], filepath.Base(path))
		return ok
	}
	rel := path
	if p.root != "." {
		var ok bool
		if p.root == string(filepath.Separator) {
			rel, ok = strings.CutPrefix(path, p.root)
		} else {
			rel, ok = strings.CutPrefix(path, p.root+string(filepath.Separator))
		}
		if !ok {
			return false
		}
	} else if filepath.IsAbs(path) {
		return false
	}
	return matchSegs(p.segs, strings.Split(rel, string(filepath.Separator)))
}

func matchSegs(segs, names []string) bool {
	for len(segs) > 0 {
		if segs[0] == "**" {
			for k := 0; k <= len(names); k++ {
				if matchSegs(segs[1:], names[k:]) {
					return true
				}
			}
			return false
		}
		if len(names) == 0 {
			return false
		}
		if ok, _ := filepath.Match(segs[0], names[0]); !ok {
			return false
		}
		segs, names = segs[1:], names[1:]
	}
	return len(names) == 0
}

// found is what one look over the patterns saw: the regular files they
// match, and the folders to watch for new ones (those listed or that a
// missing folder would be made in).
type found struct {
	files map[string]os.FileInfo
	dirs  map[string]bool
	// problems: folders that could not be listed, with why.
	problems map[string]error
}

// maxWalk bounds the entries one look goes through, so that a pattern such
// as /** cannot make it walk a whole disk.
const maxWalk = 1 << 20

// expand finds the files the patterns match, less those excluded and the
// compressed copies not matched on purpose.
func expand(pats, excl []pattern) found {
	f := found{files: map[string]os.FileInfo{}, dirs: map[string]bool{}, problems: map[string]error{}}
	budget := maxWalk
	for i := range pats {
		p := &pats[i]
		walk(&f, p, p.root, p.segs, &budget)
	}
	for path := range f.files {
		for i := range excl {
			if excl[i].matches(path) {
				delete(f.files, path)
				break
			}
		}
	}
	return f
}

// walk adds to f what segs match under dir.
func walk(f *found, p *pattern, dir string, segs []string, budget *int) {
	if *budget <= 0 {
		return
	}
	f.dirs[dir] = true
	seg := segs[0]
	last := len(segs) == 1
	if seg == "**" {
		walk(f, p, dir, segs[1:], budget) // no folder
		for _, e := range list(f, dir, budget) {
			if e.IsDir() { // not a link to one: links could loop
				walk(f, p, filepath.Join(dir, e.Name()), segs, budget)
			}
		}
		return
	}
	if !hasMeta(seg) {
		add(f, p, filepath.Join(dir, seg), last, segs, budget)
		return
	}
	for _, e := range list(f, dir, budget) {
		if ok, _ := filepath.Match(seg, e.Name()); ok {
			add(f, p, filepath.Join(dir, e.Name()), last, segs, budget)
		}
	}
}

// add takes path as a matched file (last segment) or a folder to go on in.
func add(f *found, p *pattern, path string, last bool, segs []string, budget *int) {
	fi, err := os.Stat(path) // follows links, as a reader of the path would
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			f.problems[path] = err
		}
		return
	}
	if !last {
		if fi.IsDir() {
			walk(f, p, path, segs[1:], budget)
		}
		return
	}
	if !fi.Mode().IsRegular() {
		return
	}
	if !p.compressed && isCompressed(path) {
		return
	}
	f.files[path] = fi
}

func list(f *found, dir string, budget *int) []os.DirEntry {
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		f.problems[dir] = err
	}
	*budget -= len(ents) + 1
	return ents
}
