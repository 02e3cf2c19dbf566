package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/cmd/internal/kafkatools/dumplog"
)

// decoderGiven is the value of --key-decoder-class and
// --value-decoder-class given without a class: Kafka's StringDecoder.
const decoderGiven = "org.apache.kafka.tools.api.StringDecoder"

func newDumpLogCmd(a *app) *cobra.Command {
	var o dumplog.Options
	var files string
	cmd := &cobra.Command{
		Use:   "dump-log",
		Short: "Print the batches, records and indexes of log segment files (kafka-dump-log.sh)",
		Long: `Print the contents of a partition's files, in the format of Kafka's
kafka-dump-log.sh: the record batches of .log segments (with every record
under --deep-iteration, and keys and values under --print-data-log), the
entries of .index and .timeindex files checked against their segment,
producer .snapshot files and .txnindex files. What the checks find is
written to standard error after the files. The files are read directly, so
the broker may be running or stopped.`,
		Example: `  tributary dump-log --files /tmp/kafka-logs/Teste-0/00000000000000000000.log
  tributary dump-log --files 00000000000000000000.log --print-data-log
  tributary dump-log --files 00000000000000000000.index,00000000000000000000.timeindex --verify-index-only`,
		Args: usageArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			// --key-decoder-class and --value-decoder-class take an
			// optional value, which may follow as its own argument.
			for _, name := range []string{"value-decoder-class", "key-decoder-class"} {
				dst := &o.ValueDecoder
				if name == "key-decoder-class" {
					dst = &o.KeyDecoder
				}
				if len(args) > 0 && cmd.Flags().Changed(name) && *dst == decoderGiven && !strings.HasPrefix(args[0], "-") {
					*dst, args = args[0], args[1:]
				}
			}
			if len(args) > 0 {
				return usageErrorf("unexpected argument %q", args[0])
			}
			if files != "" {
				o.Files = strings.Split(files, ",")
			}
			return dumplog.Run(o, a.stdout, a.stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&files, "files", "", "the comma-separated data and index log files to dump (required)")
	_ = cmd.MarkFlagFilename("files", "log", "index", "timeindex", "snapshot", "txnindex")
	f.BoolVar(&o.PrintDataLog, "print-data-log", false, "print the keys and values of records (implies --deep-iteration)")
	f.BoolVar(&o.DeepIteration, "deep-iteration", false, "print every record of each batch, not only the batches")
	f.BoolVar(&o.VerifyIndexOnly, "verify-index-only", false, "check index files without printing their entries")
	f.BoolVar(&o.IndexSanityCheck, "index-sanity-check", false, "only check that index files pass the check a broker makes at start-up")
	f.BoolVar(&o.SkipRecordMetadata, "skip-record-metadata", false, "do not print the offset, timestamp, sizes and headers of records")
	f.IntVar(&o.MaxMessageSize, "max-message-size", dumplog.DefaultMaxMessageSize, "the size of the largest message (accepted; batches are read whole)")
	f.IntVar(&o.MaxBytes, "max-bytes", dumplog.DefaultMaxBytes, "read at most this many bytes of each .log file")
	f.StringVar(&o.KeyDecoder, "key-decoder-class", "", "decoder of keys; only "+decoderGiven+" (implies --print-data-log)")
	f.Lookup("key-decoder-class").NoOptDefVal = decoderGiven
	f.StringVar(&o.ValueDecoder, "value-decoder-class", "", "decoder of values; only "+decoderGiven+" (implies --print-data-log)")
	f.Lookup("value-decoder-class").NoOptDefVal = decoderGiven
	return cmd
}
