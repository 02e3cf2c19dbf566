// Package connect is the worker runtime of Tributary's Kafka-Connect-style
// connectors: the Connector, SourceTask and SinkTask interfaces, a Registry
// of connector classes, converters, the source offset store, the standalone
// worker that runs source and sink loops against any Kafka cluster, and the
// REST API with Kafka Connect's paths and JSON shapes.
//
// The package knows no file and no particular connector, and it never
// imports the bundled broker: the worker talks to a cluster over the Kafka
// protocol with franz-go, even when that cluster runs in the same process.
//
// # Data flow
//
// A source task's Poll returns SourceRecords. The worker converts each value
// with the value converter, sends it with an idempotent producer (acks=all)
// to the partition chosen from the record's source partition, and, once the
// cluster has acknowledged it, records the source offset. The offset store
// writes Kafka's key/value shapes
//
//	key   ["<connector>",{"filename":"<path>"}]
//	value {"position":N}
//
// to offset.storage.file.filename every offset.flush.interval.ms and on
// shutdown, atomically (temp file, fsync, rename, fsync of the folder).
//
// A connector's Single Message Transforms (transforms=..., package
// connect/transforms) run on each source record before its conversion, and
// on each sink record after conversion and before Put. A record a
// transformation drops still counts for its source partition's offset,
// which goes past it in order with the records sent; its position header
// is carried by the next record sent, whose start goes back to the end of
// the one sent before (so Produced's chain has no gap). A dropped sink
// record is committed like a written one.
//
// A sink task receives SinkRecords from a consumer in group connect-<name>.
// On each flush interval, on rebalance and on shutdown the worker asks the
// task to Flush (make durable what it was given) and then commits the
// offsets it flushed. Each commit carries, as metadata, a snapshot of that
// flush: the state the task returned (for the file sink, the output file's
// size), a flush number and the next offset of every partition in the
// output. On start the task is handed the newest snapshot's state (Open) so
// that it drops anything written after it, and every partition resumes
// from that snapshot, whichever partitions' commits landed.
//
// # Acknowledged positions
//
// A source partition's offset advances only over what the cluster
// acknowledged, in order: each batch's last offset of a partition is stored
// once it and every earlier batch of that partition are acknowledged. The
// first record the cluster refuses stops the partition there for good and
// fails the task at once; the error (status trace and one ERROR log line)
// names the connector, the partition (the file), the record's position and
// the cause. A record too large for its topic is found before it is sent,
// and neither it nor anything after it is sent. After the cause is fixed, a
// restart resumes at that record.
//
// # Exactly once, end to end
//
// Every record of one source partition goes to one Kafka partition and
// carries two headers: the identity of the stream it was read from and the
// record's end position and length ("end:length", so its start is known).
// A stored offset also names the Kafka record that ended at it. On start a source task asks
// (SourceTaskContext.Produced) how far the records after that one reach:
// the worker follows the records whose start is the position reached so
// far, so records acknowledged after the last offset flush are not sent
// twice, and a record that is missing (refused, while later ones landed)
// ends the chain: nothing is jumped over. With the sink's state kept beside
// its committed offsets, a kill -9 of the worker neither loses nor repeats a
// record.
package connect
