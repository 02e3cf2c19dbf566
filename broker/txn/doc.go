// Package txn is the bundled broker's transaction coordinator (KIP-98,
// KIP-447 on one node): it maps each transactional.id to a producer id
// and epoch, tracks the partitions and consumer groups of its open
// transaction, and commits or aborts it by having the broker write COMMIT
// or ABORT markers to the partitions and complete the groups' pending
// offsets (Participants). It knows nothing of the network: the broker
// calls InitProducerID, AddPartitions, AddGroup, End, and checks each
// transactional produce (BeginAppend) and TxnOffsetCommit
// (BeginOffsetCommit) with it; errors are Kafka's codes (kerr).
//
// # Lifecycle
//
// Open replays Dir/transactions.log, rewrites it compacted, and starts one
// goroutine which, every AbortInterval
// (transaction.abort.timed.out.transaction.cleanup.interval.ms), aborts
// the transactions open longer than their
// transaction.timeout.ms (bumping the epoch, so the producer is fenced, as
// Kafka does), writes the markers of transactions left decided but not
// completed (by a crash or a failed write), and, every
// transaction.remove.expired.transaction.cleanup.interval.ms, forgets the
// ids unused for transactional.id.expiration.ms. Close stops it and closes
// the file; it is idempotent.
//
// # State machine
//
// Kafka's states: Empty (an id with a producer and no open transaction)
// -> Ongoing (AddPartitions or AddGroup began a transaction) ->
// PrepareCommit or PrepareAbort (End, or a timeout: the decision is
// durable) -> CompleteCommit or CompleteAbort (every marker written, the
// groups completed) -> Ongoing again with the next AddPartitions, or Empty
// with the next InitProducerID, which bumps the epoch (aborting an Ongoing
// transaction first). Dead is only written, to forget an expired id.
// Every change of an id is written and fsynced before it takes effect or
// is answered; the operations on one id are serialised by its lock, and a
// transaction leaves Ongoing only once no produce or offset commit of it
// is between its check and its write, so nothing of it lands after its
// markers.
//
// # On disk
//
// Dir (__transaction_state in the broker's first log dir) holds
// transactions.log: an 8-byte header ("TRIBTXN", version 1), then one
// CRC-framed record per change holding the whole metadata of the id
// (statelog.go). Unlike Kafka, which keeps this in the __transaction_state
// topic, there is no such topic; transaction.state.log.* keys are
// accepted and not used.
package txn
