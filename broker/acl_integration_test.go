package broker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// aclProps is a SASL_PLAINTEXT listener with PLAIN users admin (a super
// user), alice and carol, and the authorizer on.
func aclProps(extra ...string) []string {
	return append([]string{
		"listeners=SASL_PLAINTEXT://127.0.0.1:0",
		"sasl.enabled.mechanisms=PLAIN",
		`listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret" user_carol="carol-secret";`,
		"authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
		"super.users=User:admin",
		"auto.create.topics.enable=false",
	}, extra...)
}

func aclClient(t *testing.T, addr, user string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr),
		kgo.SASL(plain.Auth{User: user, Pass: user + "-secret"}.AsMechanism()),
		kgo.RetryTimeout(2 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// TestACLsEnforced: two users under SASL; the super user grants alice
// WRITE and READ on topic "orders" and READ on group "billing"; alice
// produces, consumes in the group and commits; carol may neither produce,
// fetch, see the topic in Metadata, nor join the group; the ACLs survive
// a restart; without authorizer.class.name the ACL calls are
// SECURITY_DISABLED.
func TestACLsEnforced(t *testing.T) {
	dir := t.TempDir()
	tb := startBrokerIn(t, dir, aclProps()...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := kadm.NewClient(aclClient(t, tb.addr, "admin"))
	if _, err := admin.CreateTopic(ctx, 1, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	acls := kadm.NewACLs().Allow("User:alice").AllowHosts().Topics("orders").Operations(kadm.OpWrite, kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral)
	groupACL := kadm.NewACLs().Allow("User:alice").AllowHosts().Groups("billing").Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral)
	for _, b := range []*kadm.ACLBuilder{acls, groupACL} {
		res, err := admin.CreateACLs(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatalf("create ACL: %v", r.Err)
			}
		}
	}

	alice := aclClient(t, tb.addr, "alice", kgo.DefaultProduceTopic("orders"))
	if err := alice.ProduceSync(ctx, &kgo.Record{Value: []byte("paid")}).FirstErr(); err != nil {
		t.Fatalf("alice produces: %v", err)
	}
	carol := aclClient(t, tb.addr, "carol", kgo.DefaultProduceTopic("orders"))
	if err := carol.ProduceSync(ctx, &kgo.Record{Value: []byte("forged")}).FirstErr(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("carol produces: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	// Metadata of every topic shows carol nothing, alice the topic.
	for user, want := range map[string]bool{"alice": true, "carol": false} {
		md, err := kadm.NewClient(aclClient(t, tb.addr, user)).ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if md.Has("orders") != want {
			t.Errorf("%s sees orders: %v, want %v", user, md.Has("orders"), want)
		}
	}
	// alice consumes in group billing and commits; carol cannot join it.
	consumer := aclClient(t, tb.addr, "alice", kgo.ConsumeTopics("orders"), kgo.ConsumerGroup("billing"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	fs := consumer.PollFetches(ctx)
	if err := fs.Err0(); err != nil || fs.NumRecords() != 1 {
		t.Fatalf("alice consumes: %d records, %v", fs.NumRecords(), err)
	}
	if err := consumer.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("alice commits: %v", err)
	}
	carolAdmin := kadm.NewClient(aclClient(t, tb.addr, "carol"))
	if _, err := carolAdmin.FetchOffsets(ctx, "billing"); !errors.Is(err, kerr.GroupAuthorizationFailed) {
		t.Errorf("carol fetches billing's offsets: %v, want GROUP_AUTHORIZATION_FAILED", err)
	}
	// carol may not create ACLs either.
	res, err := carolAdmin.CreateACLs(ctx, kadm.NewACLs().Allow("User:carol").AllowHosts().Topics("orders").Operations(kadm.OpAll).ResourcePatternType(kadm.ACLPatternLiteral))
	if err != nil || len(res) == 0 {
		t.Fatalf("carol creates an ACL: %v %v", res, err)
	}
	for _, r := range res {
		if !errors.Is(r.Err, kerr.ClusterAuthorizationFailed) {
			t.Errorf("carol creates an ACL: %v, want CLUSTER_AUTHORIZATION_FAILED", r.Err)
		}
	}

	// The ACLs are kept across a restart.
	tb.stop()
	tb.start()
	adminCl := aclClient(t, tb.addr, "admin")
	if n := countACLs(t, ctx, adminCl); n != 3 {
		t.Errorf("after a restart %d ACLs, want 3", n)
	}
	// With READ on the topic but not on the group, carol still cannot
	// join billing.
	res, err = kadm.NewClient(adminCl).CreateACLs(ctx, kadm.NewACLs().Allow("User:carol").AllowHosts().Topics("orders").Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral))
	if err != nil || res[0].Err != nil {
		t.Fatalf("grant carol: %v %v", res, err)
	}
	carolConsumer := aclClient(t, tb.addr, "carol", kgo.ConsumeTopics("orders"), kgo.ConsumerGroup("billing"))
	if err := carolConsumer.PollFetches(ctx).Err0(); !errors.Is(err, kerr.GroupAuthorizationFailed) {
		t.Errorf("carol joins billing: %v, want GROUP_AUTHORIZATION_FAILED", err)
	}

	// Without an authorizer the ACL calls say so.
	open := startBroker(t, "auto.create.topics.enable=false")
	cl, err := kgo.NewClient(kgo.SeedBrokers(open.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	resp, err := anyACLs().RequestWith(ctx, cl)
	if err != nil || resp.ErrorCode != kerr.SecurityDisabled.Code {
		t.Errorf("describe without an authorizer: %v %v", resp, err)
	}
}

// anyACLs is a DescribeAcls request for every ACL.
func anyACLs() *kmsg.DescribeACLsRequest {
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType, req.ResourcePatternType, req.Operation, req.PermissionType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny, kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	return req
}

func countACLs(t *testing.T, ctx context.Context, cl *kgo.Client) int {
	t.Helper()
	resp, err := anyACLs().RequestWith(ctx, cl)
	if err != nil || resp.ErrorCode != 0 {
		t.Fatalf("describe ACLs: %v %v", resp, err)
	}
	n := 0
	for _, r := range resp.Resources {
		n += len(r.ACLs)
	}
	return n
}

// TestACLsTransactions: a transactional producer needs WRITE on its
// transactional id (InitProducerId, AddPartitionsToTxn, EndTxn) and on the
// topics it adds; offsets in a transaction need READ on the group; carol,
// with no ACL on the id, is refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
func TestACLsTransactions(t *testing.T) {
	tb := startBrokerIn(t, t.TempDir(), aclProps()...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := kadm.NewClient(aclClient(t, tb.addr, "admin"))
	for _, topic := range []string{"paid", "secret"} {
		if _, err := admin.CreateTopic(ctx, 1, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range []*kadm.ACLBuilder{
		kadm.NewACLs().Allow("User:alice").AllowHosts().Topics("paid").Operations(kadm.OpWrite, kadm.OpRead, kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral),
		kadm.NewACLs().Allow("User:alice").AllowHosts().TransactionalIDs("alice-tx").Operations(kadm.OpWrite, kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral),
	} {
		res, err := admin.CreateACLs(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatalf("create ACL: %v", r.Err)
			}
		}
	}
	alice := aclClient(t, tb.addr, "alice", kgo.TransactionalID("alice-tx"), kgo.DefaultProduceTopic("paid"))
	if err := alice.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := alice.ProduceSync(ctx, &kgo.Record{Value: []byte("ok")}).FirstErr(); err != nil {
		t.Fatalf("alice's transactional produce: %v", err)
	}
	if err := alice.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("alice's commit: %v", err)
	}

	c := aclClient(t, tb.addr, "alice")
	// A topic alice may not write: not added, the others not attempted.
	ar := kmsg.NewPtrAddPartitionsToTxnRequest()
	ar.TransactionalID, ar.ProducerID, ar.ProducerEpoch = "alice-tx", 0, 0
	for _, topic := range []string{"paid", "secret"} {
		at := kmsg.NewAddPartitionsToTxnRequestTopic()
		at.Topic, at.Partitions = topic, []int32{0}
		ar.Topics = append(ar.Topics, at)
	}
	resp, err := ar.RequestWith(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]int16{}
	for _, rt := range resp.Topics {
		codes[rt.Topic] = rt.Partitions[0].ErrorCode
	}
	if codes["paid"] != kerr.OperationNotAttempted.Code || codes["secret"] != kerr.TopicAuthorizationFailed.Code {
		t.Fatalf("AddPartitionsToTxn with a denied topic: %v", codes)
	}
	// Offsets in a transaction need READ on the group.
	ao := kmsg.NewPtrAddOffsetsToTxnRequest()
	ao.TransactionalID, ao.Group = "alice-tx", "billing"
	if r, err := ao.RequestWith(ctx, c); err != nil || r.ErrorCode != kerr.GroupAuthorizationFailed.Code {
		t.Fatalf("AddOffsetsToTxn without READ on the group: %v %v", r, err)
	}

	carol := aclClient(t, tb.addr, "carol", kgo.TransactionalID("alice-tx"), kgo.DefaultProduceTopic("paid"))
	// kgo asks for its producer id as the transaction begins.
	if err = carol.BeginTransaction(); err == nil {
		err = carol.ProduceSync(ctx, &kgo.Record{Value: []byte("forged")}).FirstErr()
	}
	if err == nil || !strings.Contains(err.Error(), "TRANSACTIONAL_ID_AUTHORIZATION_FAILED") {
		t.Fatalf("carol's transactional produce: %v", err)
	}
	et := kmsg.NewPtrEndTxnRequest()
	et.TransactionalID = "alice-tx"
	// kgo hands back this error as the request's error.
	r, err := et.RequestWith(ctx, aclClient(t, tb.addr, "carol"))
	if !errors.Is(err, kerr.TransactionalIDAuthorizationFailed) && (err != nil || r.ErrorCode != kerr.TransactionalIDAuthorizationFailed.Code) {
		t.Fatalf("carol's EndTxn: %v %v", r, err)
	}
}
