package filesource

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tributary-io/tributary/connect"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Skip("no inode numbers here")
	}
	return uint64(st.Ino)
}

// TestRecreatedSameHeaderSameInode: a file that starts with a header line is
// shipped, the task stopped, the file deleted and written anew with the same
// header and new lines; it gets the same inode (ext4 reuses it at once). The
// next run takes it as a new file: the header and every new line arrive.
func TestRecreatedSameHeaderSameInode(t *testing.T) {
	const header = "#Fields: date time cs-method cs-uri-stem sc-status\n"
	var old strings.Builder
	old.WriteString(header)
	for i := range 20 {
		fmt.Fprintf(&old, "2026-12-01 10:00:%02d GET /old/%d 200\n", i, i)
	}
	path, p, task := firstRun(t, old.String(), 21, 20)
	task.Stop()
	ino := inode(t, path)

	var fresh strings.Builder
	fresh.WriteString(header)
	for i := range 30 {
		fmt.Fprintf(&fresh, "2026-12-02 11:00:%02d GET /new/%d 200\n", i, i)
	}
	// Delete and recreate until the file system hands the inode back (ext4
	// does at once; others may not, which the test cannot force).
	for try := 0; ; try++ {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		write(t, path, fresh.String())
		if inode(t, path) == ino {
			break
		}
		if try == 20 {
			t.Skip("the file system does not reuse inodes at once")
		}
	}
	task = startRun(t, p, "file="+path)
	got := collectRun(t, task, p, 31)
	if got[0] != strings.TrimSuffix(header, "\n") || got[1] != "2026-12-02 11:00:00 GET /new/0 200" || got[30] != "2026-12-02 11:00:29 GET /new/29 200" {
		t.Fatalf("got %q ... %q", got[:2], got[len(got)-1])
	}
	none(t, task)
}

// TestRecreatedShorterThanWindow: files shorter than the proof's windows
// are proven on what they have, and told apart too.
func TestRecreatedShorterThanWindow(t *testing.T) {
	path, p, task := firstRun(t, "h\na1\n", 2, 1)
	task.Stop()
	os.Remove(path)
	write(t, path, "h\nb1\nb2\n")
	task = startRun(t, p, "file="+path)
	if got := collectRun(t, task, p, 3); fmt.Sprint(got) != "[h b1 b2]" {
		t.Fatalf("got %q", got)
	}
	task.Stop()

	// The same file, appended to: resumed where it was.
	write(t, path, "b3\n")
	task = startRun(t, p, "file="+path)
	if got := collectRun(t, task, p, 1); fmt.Sprint(got) != "[b3]" {
		t.Fatalf("got %q", got)
	}
	none(t, task)
}

// TestLostRecordNotJumped: one record of a poll was refused by the cluster
// while the ones after it landed. The stored offset is older; the next run
// follows the records that continue from it and stops at the lost one, so
// it is sent again, with everything after it.
func TestLostRecordNotJumped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	write(t, path, "a1\na2\na3\na4\na5\n")
	p := &produced{path: path}
	task := startRun(t, p, "file="+path)
	recs := collect(t, task, 5)
	p.note(recs[:1])
	p.store(recs[0])
	p.note(recs[1:], 1) // a3 lost; a2, a4, a5 in the topic
	task.Stop()

	task = startRun(t, p, "file="+path)
	if got := collectRun(t, task, p, 3); fmt.Sprint(got) != "[a3 a4 a5]" {
		t.Fatalf("got %q, want [a3 a4 a5]", got)
	}
	none(t, task)
	task.Stop()

	// Once a3 and the rest are in, a run resumes after a5 although the
	// partition holds a4 and a5 twice.
	write(t, path, "a6\n")
	task = startRun(t, p, "file="+path)
	if got := collectRun(t, task, p, 1); fmt.Sprint(got) != "[a6]" {
		t.Fatalf("got %q", got)
	}
}

// TestLineOverflow: each line.overflow policy at a line of 25 bytes with
// max.line.bytes=10, with positions that a restart can resume at and the
// counts the status shows.
func TestLineOverflow(t *testing.T) {
	long := strings.Repeat("x", 25)
	content := "short\n" + long + "\nend\n"
	cases := []struct {
		policy    string
		want      []string
		positions []int64
		over      connect.Oversized
	}{
		{"split", []string{"short", long[:10], long[:10], long[:5], "end"}, []int64{6, 16, 26, 32, 36}, connect.Oversized{Split: 1}},
		{"truncate", []string{"short", long[:10], "end"}, []int64{6, 32, 36}, connect.Oversized{Truncated: 1}},
		{"skip", []string{"short", "end"}, []int64{6, 36}, connect.Oversized{Skipped: 1}},
	}
	for _, c := range cases {
		t.Run(c.policy, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.log")
			write(t, path, content)
			task := startTask(t, "file="+path, "max.line.bytes=10", "line.overflow="+c.policy)
			recs := collect(t, task, len(c.want))
			if got := values(recs); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
			start := int64(0)
			for i, r := range recs {
				if r.Position != c.positions[i] || r.Start < start {
					t.Errorf("record %d: %d-%d, want end %d after %d", i, r.Start, r.Position, c.positions[i], start)
				}
				start = r.Position
			}
			if got := task.Progress().Oversized; got != c.over {
				t.Errorf("oversized %+v, want %+v", got, c.over)
			}
		})
	}
	t.Run("fail", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.log")
		write(t, path, content)
		task := startTask(t, "file="+path, "max.line.bytes=10", "line.overflow=fail")
		if got := values(collect(t, task, 1)); got[0] != "short" {
			t.Fatalf("got %q", got)
		}
		_, err := task.Poll(context.Background())
		if err == nil || !strings.Contains(err.Error(), "position 6 of "+path) || !strings.Contains(err.Error(), "max.line.bytes (10)") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("max.line.action", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.log")
		write(t, path, content)
		task := startTask(t, "file="+path, "max.line.bytes=10", "max.line.action=skip")
		if got := values(collect(t, task, 2)); fmt.Sprint(got) != "[short end]" {
			t.Fatalf("got %q", got)
		}
	})
}
