// Package group is the bundled broker's group coordinator: the classic
// consumer group protocol (join, sync, heartbeat, leave), generations and
// member ids, and committed offsets that are persisted under Config.Dir and
// recovered on start-up. It knows nothing of the network: the broker decodes
// each request with kmsg, hands it to Handle, and encodes the response.
//
// # Lifecycle
//
// Open replays Dir/offsets.log, rewrites it compacted, and starts two
// goroutines: the timer goroutine (session timeouts, rebalance timeouts,
// the initial rebalance delay, pending members, the retention check) and
// the offsets log writer. Handle serves requests concurrently; JoinGroup
// and SyncGroup park until the rebalance moves on or their context ends.
// TopicDeleted forgets a deleted topic's offsets. Close answers parked
// requests with NOT_COORDINATOR, stops the timers, writes and fsyncs what
// is pending, and closes the log; it is idempotent.
//
// # State machine
//
// Each group moves Empty -> PreparingRebalance (members join; the join
// ends when every member has rejoined, at the longest rebalance timeout, or
// for a new group after group.initial.rebalance.delay.ms, extended while
// members keep arriving) -> CompletingRebalance (the next generation: every
// member has its JoinGroup answer, the leader with everyone's metadata;
// members wait in SyncGroup for the leader's assignment) -> Stable. A member
// joining, leaving, changing its metadata, missing its session timeout, or
// failing to sync within the rebalance timeout sends the group back to
// PreparingRebalance; a rebalance that ends with no member leaves it Empty.
// The coordinator never computes assignments: the leader (a client) does,
// so every client-side assignor works.
//
// The table states in state.go is the state machine: for each state its
// name, the states it is entered from, and what it answers a member in
// good standing (Heartbeat, SyncGroup, OffsetCommit, a rejoin). A member is
// in good standing when its member id is in the group, it holds the
// instance id it names, and its generation is the group's; otherwise it
// gets UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID or ILLEGAL_GENERATION whatever
// the state. rebalance.go moves a group through a generation; each
// deadline belongs to the states it guards (the join deadline to
// PreparingRebalance, the sync deadline to one generation) and stops when
// the group leaves them.
//
// # Transactional offsets
//
// TxnOffsetCommit (KIP-98, KIP-447), called by the broker once the
// transaction coordinator has admitted it, writes offsets pending under
// the producer id: OffsetFetch does not return them and, with
// RequireStable, answers UNSTABLE_OFFSET_COMMIT for their partitions.
// EndTxn, called when the transaction's markers are written, makes them
// the committed offsets or drops them. Both are records of the offsets
// log, so pending offsets survive a restart as their transaction does.
//
// # The __consumer_offsets topic
//
// With Config.OffsetsTopic set, every change of the committed offsets and
// group metadata is also written, in Kafka's key/value formats, to the
// broker's internal __consumer_offsets topic, in commit order and before
// the requests that made it are answered; a group's records go to
// partition abs(String.hashCode of the group) % partitions, as in Kafka. The
// offsets log below stays the source of truth: the topic is a read-only
// view of it, brought up to date again at every Open (offsetstopic.go).
//
// # Committed offsets on disk
//
// Dir holds one file, offsets.log, and while it is rewritten offsets.log.tmp.
// Group names are data inside records, never file names. The file is an
// 8-byte header ("TRIBOFF" and a version byte, 1) and then records, each
// framed by its length and CRC-32C; the format is described in
// offsetlog.go. For example a commit of offset 42 of
// partition 0 of topic "logs" by group "sink", with no leader epoch, no
// metadata and no expiry, is one 57-byte record:
//
//	00000031 <crc32c>                 payload length 49, checksum
//	01                                kind: commit
//	0004 "sink" 0004 "logs" 00000000  group, topic, partition
//	000000000000002a ffffffff         offset 42, leader epoch -1
//	00000000 <commit time, ms>        metadata "", commit time
//	ffffffffffffffff                  expire time: none
//
// An OffsetCommit (and DeleteGroups, OffsetDelete, TopicDeleted) is answered
// only once its records are fsynced, and commits that arrive together share
// one fsync. A torn or corrupt tail (never acknowledged) is dropped on load.
//
// A write or fsync of the file that fails refuses the requests whose
// records it carried (NOT_COORDINATOR, which clients retry) and nothing
// else: the next write first truncates the file back to the end of the
// last batch written whole and fsynced, and fsyncs it, so the file stays a
// valid log and commits succeed again once the cause (a full disk) is
// gone. A rewrite that cannot create its new file leaves the old one in
// use and is tried again after the file grows further.
package group
