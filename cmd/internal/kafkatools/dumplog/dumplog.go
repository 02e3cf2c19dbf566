// Package dumplog is the logic of `tributary dump-log`, Kafka's
// kafka-dump-log.sh (DumpLogSegments): it prints the files of a partition
// folder in Kafka's words, for a person looking into a log that seems
// wrong.
//
// Each file is read by its suffix, as Kafka's tool does:
//
//	.log        record batches, one line each: offsets, producer, epoch,
//	            transaction and control flags, position, timestamp, size,
//	            codec, CRC and whether the CRC holds; with deep iteration
//	            (--deep-iteration, implied by --print-data-log) a
//	            "| offset: ..." line per record, with the COMMIT or ABORT
//	            of a control record, and keys and values with
//	            --print-data-log. Bytes after the last whole batch are
//	            reported as invalid.
//	.index      offset/position entries, each checked against the batch at
//	            its position in the segment's .log file
//	.timeindex  timestamp/offset entries, each checked against the log:
//	            the offset is a batch's, the timestamp that batch's largest,
//	            and timestamps increase
//	.snapshot   producer state (Kafka's producer snapshot schema, or the
//	            bundled broker's own "TRPS" snapshot)
//	.txnindex   aborted transactions
//
// What the checks find is written to stderr after every file is dumped,
// with Kafka's headings ("Mismatches in :...", "Found timestamp mismatch
// in :...", "Non-consecutive offsets in ..."). A file that cannot be read
// (missing, a length smaller than any batch, a record cut short) is an
// error naming the file and the position; the other files are still
// dumped, and the command fails at the end.
//
// The package reads the files itself: it shares no code with the broker
// that wrote them, so it reads Kafka's segments as well as ours.
//
// Where this differs from Kafka's tool:
//
//   - An .index or .timeindex entry matches when it names the first or
//     the last offset of its batch: Kafka's brokers write the last, the
//     bundled broker the first, and both are correct lower bounds.
//   - Only magic 2 batches (Kafka 0.11 and later) are read; an older
//     message set is an error naming its position.
//   - KRaft control records (leader change, snapshot header and footer,
//     voters) are named ("controlType: SNAPSHOT_HEADER(3)") but their
//     JSON is not printed; the decoders of Kafka's internal topics
//     (--offsets-decoder, --transaction-log-decoder, ...) are not
//     offered, and keys and values are printed as UTF-8 text (Kafka's
//     StringDecoder, the only decoder class accepted).
//   - The findings of the checks are listed in file order, where Kafka
//     lists the newest first.
package dumplog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/usage"
)

// StringDecoders are the decoder class names accepted for keys and
// values: Kafka's StringDecoder, old and new.
var stringDecoders = []string{
	"org.apache.kafka.tools.api.StringDecoder",
	"kafka.serializer.StringDecoder",
}

// Options are the flags of kafka-dump-log.sh, each named after its flag.
type Options struct {
	Files              []string // --files: the files to dump, comma-separated on the command line
	PrintDataLog       bool     // --print-data-log: print keys and values (implies DeepIteration)
	DeepIteration      bool     // --deep-iteration: print every record
	VerifyIndexOnly    bool     // --verify-index-only: check index files without printing their entries
	IndexSanityCheck   bool     // --index-sanity-check: only the check a broker does at start-up
	SkipRecordMetadata bool     // --skip-record-metadata: no offset, timestamp, sizes of records
	MaxMessageSize     int      // --max-message-size (accepted; batches are read whole)
	MaxBytes           int      // --max-bytes: read at most this many bytes of each .log file
	KeyDecoder         string   // --key-decoder-class ("" when not given); implies PrintDataLog
	ValueDecoder       string   // --value-decoder-class ("" when not given); implies PrintDataLog
}

// Check validates the options.
func (o *Options) Check() error {
	if len(o.Files) == 0 {
		return usage.Errorf("missing required argument \"[files]\"")
	}
	for _, f := range o.Files {
		if f == "" {
			return usage.Errorf("--files %q names an empty file", strings.Join(o.Files, ","))
		}
	}
	for flag, class := range map[string]string{"key-decoder-class": o.KeyDecoder, "value-decoder-class": o.ValueDecoder} {
		if class != "" && !isStringDecoder(class) {
			return usage.Errorf("--%s %s: only the string decoder (%s) is available", flag, class, stringDecoders[0])
		}
	}
	if o.MaxBytes <= 0 {
		return usage.Errorf("--max-bytes must be positive")
	}
	return nil
}

func isStringDecoder(class string) bool {
	for _, d := range stringDecoders {
		if class == d {
			return true
		}
	}
	return false
}

// Run dumps each file to stdout, then writes what the checks found to
// stderr. It returns the errors of the files that could not be read.
func Run(o Options, stdout, stderr io.Writer) error {
	if err := o.Check(); err != nil {
		return err
	}
	d := &dumper{o: o, out: bufio.NewWriterSize(stdout, 64<<10), stderr: stderr, findings: &findings{}}
	d.printData = o.PrintDataLog || o.KeyDecoder != "" || o.ValueDecoder != ""
	d.deep = o.DeepIteration || d.printData
	var errs []error
	for _, file := range o.Files {
		fmt.Fprintf(d.out, "Dumping %s\n", file)
		if err := d.dumpFile(file); err != nil {
			errs = append(errs, err)
		}
		if err := d.out.Flush(); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	d.findings.write(stderr)
	return errors.Join(errs...)
}

// dumper is one run of the tool.
type dumper struct {
	o               Options
	printData, deep bool
	out             *bufio.Writer
	stderr          io.Writer
	findings        *findings
}

func (d *dumper) dumpFile(file string) error {
	ext := filepath.Ext(file)
	switch ext {
	case ".log":
		return d.dumpLog(file)
	case ".index":
		return d.dumpIndex(file)
	case ".timeindex":
		return d.dumpTimeIndex(file)
	case ".snapshot":
		return d.dumpProducerSnapshot(file)
	case ".txnindex":
		return d.dumpTxnIndex(file)
	}
	if err := d.out.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(d.stderr, "Ignoring unknown file %s\n", file)
	return nil
}

// baseOffset is the offset a segment file is named by: the digits before
// its first dot.
func baseOffset(file string) (int64, error) {
	name := filepath.Base(file)
	digits, _, _ := strings.Cut(name, ".")
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: the name of a segment file is its base offset, as 00000000000000000000%s", file, filepath.Ext(name))
	}
	return n, nil
}

// siblingFile is the file of the same segment with another suffix.
func siblingFile(file, ext string) string {
	dir, name := filepath.Split(file)
	digits, _, _ := strings.Cut(name, ".")
	return filepath.Join(dir, digits+ext)
}

func absPath(file string) string {
	if p, err := filepath.Abs(file); err == nil {
		return p
	}
	return file
}

// pair is two numbers a check reports about one entry.
type pair [2]int64

// fileFindings are the findings of the checks in one file, in the order
// they were found.
type fileFindings struct {
	path  string
	pairs []pair
}

// findings collects what the checks found, to be reported after every
// file is dumped, as Kafka's tool does.
type findings struct {
	indexMismatches []fileFindings // .index: index offset, log offset
	timeMismatches  []fileFindings // .timeindex: index timestamp, log timestamp
	timeOutOfOrder  []fileFindings // .timeindex: index timestamp, previous index timestamp
	timeNotFound    []fileFindings // .timeindex: indexed offset, log offset found
	nonConsecutive  []fileFindings // .log: offset, the offset after it
}

func add(list *[]fileFindings, path string, a, b int64) {
	if n := len(*list); n > 0 && (*list)[n-1].path == path {
		(*list)[n-1].pairs = append((*list)[n-1].pairs, pair{a, b})
		return
	}
	*list = append(*list, fileFindings{path: path, pairs: []pair{{a, b}}})
}

// write reports the findings with Kafka's words.
func (f *findings) write(w io.Writer) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	for _, ff := range f.indexMismatches {
		fmt.Fprintf(bw, "Mismatches in :%s\n", ff.path)
		for _, p := range ff.pairs {
			fmt.Fprintf(bw, "  Index offset: %d, log offset: %d\n", p[0], p[1])
		}
	}
	for _, ff := range f.timeMismatches {
		fmt.Fprintf(bw, "Found timestamp mismatch in :%s\n", ff.path)
		for _, p := range ff.pairs {
			fmt.Fprintf(bw, "  Index timestamp: %d, log timestamp: %d\n", p[0], p[1])
		}
	}
	for _, ff := range f.timeOutOfOrder {
		fmt.Fprintf(bw, "Found out of order timestamp in :%s\n", ff.path)
		for _, p := range ff.pairs {
			fmt.Fprintf(bw, "  Index timestamp: %d, Previously indexed timestamp: %d\n", p[0], p[1])
		}
	}
	for _, ff := range f.timeNotFound {
		fmt.Fprintln(bw, "The following indexed offsets are not found in the log.")
		for _, p := range ff.pairs {
			fmt.Fprintf(bw, "Indexed offset: %d, found log offset: %d\n", p[0], p[1])
		}
	}
	for _, ff := range f.nonConsecutive {
		fmt.Fprintf(bw, "Non-consecutive offsets in %s\n", ff.path)
		for _, p := range ff.pairs {
			fmt.Fprintf(bw, "  %d is followed by %d\n", p[0], p[1])
		}
	}
}

// DefaultMaxBytes is --max-bytes when not given: no limit.
const DefaultMaxBytes = math.MaxInt32

// DefaultMaxMessageSize is --max-message-size when not given.
const DefaultMaxMessageSize = 5 * 1024 * 1024
