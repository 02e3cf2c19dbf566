package filesink

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-io/tributary/config"
	"github.com/tributary-io/tributary/config/atomicfile"
)

// Output rotation (beyond Kafka's FileStreamSink): the file is renamed to
// file.NNNNNN, its generation, and a new one started, by size or age,
// between batches. A generation counts the file's rotations: the current
// file is generation gen, the rotated ones 1 .. gen-1, and the state a
// flush returns names the generation with the size, so that a restart
// after a crash that lost commits undoes the rotations since the last
// commit (the rotated file of the committed generation becomes the file
// again, cut to the committed size; later ones go) before the worker
// resumes right after the committed records. Exactly once holds across
// rotations as long as the rotated file of the committed generation is
// still kept (file.rotate.keep).

// now is the clock of rotation by age; tests replace it.
var now = time.Now

// rotation is a task's rotation settings and the current generation.
type rotation struct {
	bytes    int64
	interval time.Duration
	keep     int
	compress bool

	gen     int       // the current file's generation
	started time.Time // when the current file was started (or the task)
}

func (r *rotation) configure(cfg *config.Values, path string) error {
	r.bytes = cfg.Long("file.rotate.bytes")
	r.interval = time.Duration(cfg.Long("file.rotate.interval.ms")) * time.Millisecond
	r.keep = cfg.Int("file.rotate.keep")
	r.compress = cfg.Bool("file.rotate.compress")
	if err := tidyRotated(path); err != nil {
		return err
	}
	gens, err := rotatedGens(path)
	if err != nil {
		return err
	}
	r.gen = 1
	if n := len(gens); n > 0 {
		r.gen = gens[n-1] + 1
	}
	r.started = now()
	return nil
}

// due reports whether the current file, of size bytes, is to be rotated
// before the next batch.
func (r *rotation) due(size int64) bool {
	return size > 0 && (r.bytes > 0 && size >= r.bytes || r.interval > 0 && now().Sub(r.started) >= r.interval)
}

// tidyRotated finishes what a crash interrupted: a generation compressed
// whole (its .gz renamed into place) whose plain file is still there loses
// the plain file, and half-written .gz files go.
func tidyRotated(path string) error {
	gens, err := rotatedGens(path)
	if err != nil {
		return err
	}
	for _, g := range gens {
		plain := rotatedName(path, g, false)
		os.Remove(rotatedName(path, g, true) + atomicfile.TempSuffix)
		if _, err := os.Stat(rotatedName(path, g, true)); err == nil {
			if err := os.Remove(plain); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// rotatedName is the name of generation gen's rotated file.
func rotatedName(path string, gen int, compressed bool) string {
	name := fmt.Sprintf("%s.%06d", path, gen)
	if compressed {
		name += ".gz"
	}
	return name
}

// rotatedGens lists the generations of path's rotated files, ascending.
func rotatedGens(path string) ([]int, error) {
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	prefix := filepath.Base(path) + "."
	var gens []int
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		rest = strings.TrimSuffix(rest, ".gz")
		if len(rest) < 6 || strings.Trim(rest, "0123456789") != "" {
			continue
		}
		if g, err := strconv.Atoi(rest); err == nil && g > 0 {
			gens = append(gens, g)
		}
	}
	slices.Sort(gens)
	return slices.Compact(gens), nil
}

// rotateLocked writes out what is buffered, fsyncs and renames the file to
// its generation's name, starts a new file and then compresses and prunes
// the rotated ones as configured; t.mu is held.
func (t *Task) rotateLocked(ctx context.Context) error {
	if t.f == nil {
		return nil
	}
	if err := t.writeOut(ctx); err != nil {
		return err
	}
	if err := t.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s before rotating it: %w", t.path, err)
	}
	rotated := rotatedName(t.path, t.rot.gen, false)
	if _, err := os.Lstat(rotated); err == nil {
		return fmt.Errorf("rotate %s: %s already exists", t.path, rotated)
	}
	if err := os.Rename(t.path, rotated); err != nil {
		return fmt.Errorf("rotate %s: %w", t.path, err)
	}
	t.rot.gen++
	if err := t.reopenLocked("was rotated to " + filepath.Base(rotated)); err != nil {
		return err
	}
	t.rot.started = now()
	if t.rot.compress {
		if err := compressFile(rotated); err != nil {
			t.log.Warn("cannot compress the rotated file; it stays as it is", "file", rotated, "err", err)
		}
	}
	t.pruneLocked()
	return nil
}

// compressFile replaces name with name.gz, whole or not at all.
func compressFile(name string) error {
	in, err := os.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	err = atomicfile.ReplaceFrom(name+".gz", 0o644, func(w io.Writer) error {
		zw := gzip.NewWriter(w)
		if _, err := io.Copy(zw, in); err != nil {
			return err
		}
		return zw.Close()
	})
	if err != nil {
		return err
	}
	if err := os.Remove(name); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(name))
}

// pruneLocked removes the rotated files beyond the newest file.rotate.keep.
func (t *Task) pruneLocked() {
	if t.rot.keep <= 0 {
		return
	}
	gens, err := rotatedGens(t.path)
	if err != nil {
		t.log.Warn("cannot list the rotated files", "err", err)
		return
	}
	for len(gens) > t.rot.keep {
		for _, c := range []bool{false, true} {
			if err := os.Remove(rotatedName(t.path, gens[0], c)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.log.Warn("cannot remove an old rotated file", "err", err)
			}
		}
		gens = gens[1:]
	}
}

// undoRotationsLocked takes the files back to generation gen, the one the
// newest committed state names, after a restart that lost the commits of
// later rotations: the rotated file of gen (decompressed if need be)
// becomes the file again and the files of later generations are removed,
// since everything in them was written after that commit and is written
// again. Open then cuts the file to the committed size. t.mu is held.
func (t *Task) undoRotationsLocked(gen int) error {
	if gen > t.rot.gen {
		t.log.Warn("the committed state names a later generation of the file than exists (were rotated files removed?); appending to the file", "committed_generation", gen, "generation", t.rot.gen)
		return nil
	}
	plain, packed := rotatedName(t.path, gen, false), rotatedName(t.path, gen, true)
	src := plain
	if _, err := os.Stat(plain); err != nil {
		if _, err := os.Stat(packed); err != nil {
			t.log.Warn("the rotated file of the committed generation is gone (file.rotate.keep too small?); records since the last commit may be in the file twice", "generation", gen)
			return nil
		}
		if err := decompressFile(packed, plain); err != nil {
			return fmt.Errorf("undo rotation: %w", err)
		}
		src = plain
	}
	if err := os.Rename(src, t.path); err != nil {
		return fmt.Errorf("undo rotation of %s: %w", t.path, err)
	}
	for g := gen + 1; g < t.rot.gen; g++ {
		for _, c := range []bool{false, true} {
			if err := os.Remove(rotatedName(t.path, g, c)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("undo rotation of %s: %w", t.path, err)
			}
		}
	}
	os.Remove(packed)
	from := t.rot.gen
	t.rot.gen = gen
	if err := t.reopenLocked("goes back to generation " + strconv.Itoa(gen) + ", the last one committed"); err != nil {
		return err
	}
	t.log.Info("undid the rotations since the last commit; what was written after it is written again", "from_generation", from, "to_generation", gen)
	return nil
}

// decompressFile writes the contents of the gzip file src to dst, whole or
// not at all.
func decompressFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	if err := atomicfile.ReplaceFrom(dst, 0o644, func(w io.Writer) error { _, err := io.Copy(w, zr); return err }); err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	return nil
}
