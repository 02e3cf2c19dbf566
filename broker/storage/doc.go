// Package storage is the durable log of one topic partition. Its segment
// files (.log) are Kafka's: a folder of them can be read by Kafka's
// kafka-dump-log.sh and served by a Kafka broker. The files beside them
// follow Kafka's names and layout but differ, as "Where this differs from
// Kafka" below says exactly. It knows nothing of the network: the broker
// hands it the record batches producers send and asks it for bytes to
// fetch.
//
// # Lifecycle
//
// Open loads a partition folder. If the broker was not shut down cleanly,
// the segment holding the recovery point (the offset below which every
// record was known to be fsynced) and all later segments are read back:
// each batch's framing and CRC are checked, and that its base offset
// follows on from the batch before (the log has no gaps). The log is
// truncated at the first torn or corrupt batch (the warning says how many
// bytes went), and at a segment that does not start where the one before
// it ends, so that the log is always a prefix of what was written; the
// indexes are rebuilt. Segments below the recovery point are trusted, as in Kafka:
// their index files are loaded and only the headers after the last index
// entry are read. Within the segment holding the recovery point,
// validation starts at the last batch below it that the segment's index
// file records (CheckpointIndex writes the active segment's index up to
// the recovery point, and a producer snapshot, whenever the broker
// records recovery points), so a crash costs a re-read of what was
// written since the last checkpoint, not of the whole segment. Producer state is then loaded from the newest
// snapshot and replayed from the batch headers after it.
//
// Append validates one batch (Kafka's magic 2 record batch: length fields,
// CRC-32C, record count, size against max.message.bytes, producer fields),
// checks its producer's sequence, assigns offsets by rewriting the base
// offset in place and writes it to the active segment. Records are never
// decoded or decompressed on this path. Append returns once the bytes are
// in the operating system's page cache; Sync(offset) returns once they are
// on disk. Concurrent Sync calls share fsyncs (group commit). When the
// disk is full, Append fails with ErrNoSpace, cuts off whatever part of
// the batch was written and leaves the log as it was; appends succeed
// again once there is space. A flush fsyncs the segments' data before it
// writes index files and producer snapshots, so a full disk delays those
// (they are derived data) but not the acknowledgement. Any other write or
// fsync error fails the log (ErrStorage) until it is reopened. FlushIfDue
// applies flush.ms and flushes rolled segments; flush.messages is reported
// by Append (AppendResult.FlushDue) for the caller to Sync.
//
// Read returns whole batches, starting with the one that holds the
// requested offset (a consumer skips the records before it), copied from
// the segment file into a caller-supplied buffer without holding the
// append lock. OffsetForTimestamp and MaxTimestamp (ListOffsets) find a
// batch through the time index and decode it, decompressing at most
// Options.DecompressLimit bytes of it (64 MiB, or max.message.bytes when
// larger): a batch that expands beyond that, as a decompression bomb does,
// is ErrDecompressLimit. Retain removes whole segments past retention.ms or
// retention.bytes and moves the log start offset. A segment leaves the log
// when its .log file is renamed to .log.deleted, oldest first; if the
// rename fails, that segment and the later ones stay in the log (and are
// served) and Retain returns an error naming the file, so the log never
// holds a segment file that Open would load back below the log start.
// Files of segments out of the log (the .deleted file, the indexes) and
// old producer snapshots that cannot be removed are reported, and each
// later Retain tries them again. Clean compacts a log whose
// cleanup.policy includes compact (Kafka's log cleaner, cleaner.go):
// sealed segments are rewritten with the latest record of each key, and
// their offsets kept, so a compacted log has gaps that reads step over
// (a read returns the first batch holding an offset at or after the one
// asked for). Append refuses records without a key on such a log.
// Close fsyncs everything,
// writes the indexes and a producer snapshot, and closes the files; a log
// closed this way is trusted on the next Open (the broker records that in
// a clean-shutdown marker).
//
// # On-disk format
//
// A partition is a folder named <topic>-<partition>, holding segments named
// by their base offset, the first offset they hold, as twenty decimal
// digits:
//
//	orders-0/
//	  00000000000000000000.log        batches 0 .. 52117
//	  00000000000000000000.index
//	  00000000000000000000.timeindex
//	  00000000000000052118.log        batches 52118 .. (active segment)
//	  00000000000000052118.index
//	  00000000000000052118.timeindex
//	  00000000000000052118.snapshot   producer state as of offset 52118
//	  00000000000000052118.txnindex   aborted transactions whose marker is here
//
// A .log file is a sequence of record batches exactly as producers sent
// them, except for the base offset (bytes 0-7) and partition leader epoch
// (bytes 12-15), which the log assigns; both lie before the part the CRC
// covers, so assigning them needs no CRC computation. A topic with
// message.timestamp.type=LogAppendTime also gets the timestamp type bit and
// max timestamp rewritten, and the CRC recomputed.
//
// A .index file is a sparse offset index: 8-byte entries of a 4-byte
// offset relative to the base and the 4-byte position of the batch starting
// at that offset, one every index.interval.bytes of log. A .timeindex file
// has 12-byte entries: the largest timestamp so far (8 bytes) and the
// relative offset (4 bytes) of the batch holding it. All integers are
// big-endian. Indexes are kept in memory and written, through a temporary
// file renamed into place, when a segment is rolled, when the log is
// closed and (the active segment's, up to the recovery point) at each
// checkpoint; they are derived data, rebuilt from the .log file whenever
// they cannot be trusted.
//
// A .snapshot file holds the idempotent producers' state (epoch, last
// five batches and open transaction's first offset per producer id) as of its offset, so that retries are
// recognised after a restart; it is written when a segment is rolled, at
// each checkpoint and when the log is closed, through a temporary file
// renamed into place. The two newest are kept.
//
// Transactions (txn.go): a transactional batch opens its producer's
// transaction in the partition; AppendControl writes the COMMIT or ABORT
// marker (a control batch) that ends it. The last stable offset (LSO) is
// the first offset of the oldest open transaction, or the log end;
// ReadCommitted reads below it only. A .txnindex file lists a segment's
// aborted transactions in Kafka's format (34-byte entries: version 0,
// producer id, first offset, last offset, LSO), kept in memory and
// written with the segment's other indexes (and, for the active segment,
// at each checkpoint); AbortedTransactions answers a read_committed
// fetch from them. The open transactions' first offsets are part of the
// producer snapshot, so after a crash the replay from the newest snapshot
// reopens them and re-indexes the markers after it; entries beyond a
// segment's recovered end are dropped. Without any snapshot every
// segment's headers are replayed.
//
// A cleaned segment is written as <base>.log.cleaned and renamed to
// <base>.log.swap, then over <base>.log; Open completes a swap it finds
// and removes .cleaned files. cleaner-offset-checkpoint holds the offset
// where the last cleaning pass ended (and, during a pass, where that one
// ends): below it batches and segments may have gaps, which recovery
// accepts there only (elsewhere a batch must start where the one before
// ended).
//
// Files being written carry a .tmp suffix until renamed; segment files
// taken out of the log carry a .deleted suffix until removed (Kafka's
// names). Both are never loaded, and leftovers are removed on Open, as are
// index files without their segment. A segment file after the point where
// recovery cut the log, or a producer snapshot beyond the log end, that
// cannot be removed fails Open. Every creation, rename and removal is
// followed by an fsync of the folder before the log relies on it.
//
// # Where this differs from Kafka
//
//   - A .index entry names the first offset of the batch at its position;
//     Kafka's names the batch's last offset. Both are lower bounds for a
//     lookup, so each side finds records in the other's files, but Kafka's
//     kafka-dump-log.sh reports each of our entries as an index mismatch.
//   - A .timeindex entry's offset is the first offset of the batch holding
//     the largest timestamp so far; Kafka's is that batch's last offset.
//   - Index files are written at their exact length; Kafka preallocates
//     the active segment's (segment.index.bytes) and trims them on roll.
//   - A .snapshot file is this package's own format (magic "TRPS", see
//     producer.go); Kafka's producer snapshot has another schema, and
//     neither side reads the other's. kafka-dump-log.sh fails on ours.
//   - A .txnindex file has Kafka's format, but is written whole with the
//     segment's other indexes (and at checkpoints), where Kafka appends an
//     entry at each abort; entries after the newest producer snapshot are
//     rebuilt from the markers on recovery.
//   - The cleaner rewrites each segment in place of itself (one that is
//     left empty leaves the log, unless it is the first); Kafka merges
//     consecutive cleaned segments up to segment.bytes. The cleaner
//     checkpoint is one file per partition folder, holding the offset
//     alone; Kafka keeps one cleaner-offset-checkpoint per log dir. The
//     cleaner maps every key of a pass in memory (Kafka's dedupe buffer,
//     log.cleaner.dedupe.buffer.size, bounds its map and may split a pass).
//     A batch left with no records is dropped, also when it is its
//     producer's last (Kafka keeps it empty for the producer's sequence;
//     here producer snapshots keep that).
//   - A partition folder holds no leader-epoch-checkpoint and no
//     partition.metadata (one node, one leader epoch; topic ids live in
//     the broker's topics.json).
package storage
