package broker

import (
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnV4 is one transaction of an AddPartitionsToTxn v4 request.
func txnV4(id string, pid int64, epoch int16, verify bool, topic string, parts ...int32) kmsg.AddPartitionsToTxnRequestTransaction {
	tr := kmsg.NewAddPartitionsToTxnRequestTransaction()
	tr.TransactionalID, tr.ProducerID, tr.ProducerEpoch, tr.VerifyOnly = id, pid, epoch, verify
	rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	rt.Topic, rt.Partitions = topic, parts
	tr.Topics = append(tr.Topics, rt)
	return tr
}

// codesV4 lists a v4 response's codes as "id topic-partition" -> code.
func codesV4(resp *kmsg.AddPartitionsToTxnResponse) map[string]int16 {
	out := map[string]int16{}
	for _, tr := range resp.Transactions {
		for _, rt := range tr.Topics {
			for _, p := range rt.Partitions {
				out[tr.TransactionalID+" "+rt.Topic+"-"+strconv.Itoa(int(p.Partition))] = p.ErrorCode
			}
		}
	}
	return out
}

// TestAddPartitionsToTxnV4: the batched broker-to-broker form. Verifying
// changes nothing and answers per transaction (a partition in the open
// transaction NONE, another INVALID_TXN_STATE, an unknown id or producer
// INVALID_PRODUCER_ID_MAPPING, another epoch PRODUCER_FENCED, an empty id
// INVALID_REQUEST, an unknown partition UNKNOWN_TOPIC_OR_PARTITION with
// the others OPERATION_NOT_ATTEMPTED); without VerifyOnly the partitions
// are added. Clients keep to v3 (franz-go pins it; the TestTxn* tests
// run its transactional producer, and sarama's, against this broker).
func TestAddPartitionsToTxnV4(t *testing.T) {
	tb := startBroker(t)
	createTopic(t, tb.addr, "t", 3, nil)
	c := dialRaw(t, tb.addr)
	init := kmsg.NewPtrInitProducerIDRequest()
	init.Version = 4
	id := "tx-v4"
	init.TransactionalID, init.TransactionTimeoutMillis = &id, 60000
	ir := c.roundTrip(init).(*kmsg.InitProducerIDResponse)
	if ir.ErrorCode != 0 {
		t.Fatalf("InitProducerId: %s", errName(ir.ErrorCode))
	}
	pid, epoch := ir.ProducerID, ir.ProducerEpoch

	add3 := kmsg.NewPtrAddPartitionsToTxnRequest()
	add3.Version = 3
	add3.TransactionalID, add3.ProducerID, add3.ProducerEpoch = id, pid, epoch
	add3.Topics = []kmsg.AddPartitionsToTxnRequestTopic{{Topic: "t", Partitions: []int32{0}}}
	if r := c.roundTrip(add3).(*kmsg.AddPartitionsToTxnResponse); r.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("v3 add: %s", errName(r.Topics[0].Partitions[0].ErrorCode))
	}

	verify := func(txns ...kmsg.AddPartitionsToTxnRequestTransaction) map[string]int16 {
		t.Helper()
		req := kmsg.NewPtrAddPartitionsToTxnRequest()
		req.Version = 4
		req.Transactions = txns
		resp := c.roundTrip(req).(*kmsg.AddPartitionsToTxnResponse)
		if resp.ErrorCode != 0 || len(resp.Transactions) != len(txns) {
			t.Fatalf("v4: top-level %s, %d transactions for %d", errName(resp.ErrorCode), len(resp.Transactions), len(txns))
		}
		return codesV4(resp)
	}
	got := verify(
		txnV4(id, pid, epoch, true, "t", 0, 1),
		txnV4("nope", pid, epoch, true, "t", 0),
		txnV4("", pid, epoch, true, "t", 0),
	)
	want := map[string]int16{
		id + " t-0": 0,
		id + " t-1": kerr.InvalidTxnState.Code,
		"nope t-0":  kerr.InvalidProducerIDMapping.Code,
		" t-0":      kerr.InvalidRequest.Code,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("verify %q: %s, want %s", k, errName(got[k]), errName(w))
		}
	}
	if g := verify(txnV4(id, pid, epoch+1, true, "t", 0))[id+" t-0"]; g != kerr.ProducerFenced.Code {
		t.Errorf("verify with another epoch: %s", errName(g))
	}
	if g := verify(txnV4(id, pid+1, epoch, true, "t", 0))[id+" t-0"]; g != kerr.InvalidProducerIDMapping.Code {
		t.Errorf("verify with another producer id: %s", errName(g))
	}
	req := txnV4(id, pid, epoch, true, "t", 0)
	req.Topics = append(req.Topics, kmsg.AddPartitionsToTxnRequestTransactionTopic{Topic: "gone", Partitions: []int32{0}})
	if g := verify(req); g[id+" t-0"] != kerr.OperationNotAttempted.Code || g[id+" gone-0"] != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("verify with an unknown topic: %v", g)
	}

	// Adding with v4, then verifying.
	if g := verify(txnV4(id, pid, epoch, false, "t", 2))[id+" t-2"]; g != 0 {
		t.Fatalf("v4 add: %s", errName(g))
	}
	if g := verify(txnV4(id, pid, epoch, true, "t", 0, 2)); g[id+" t-0"] != 0 || g[id+" t-2"] != 0 {
		t.Errorf("verify after the v4 add: %v", g)
	}
	d, _ := tb.b.txns.Describe(id)
	if len(d.Partitions) != 2 {
		t.Errorf("the transaction holds %v, want t-0 and t-2", d.Partitions)
	}

	// Once the transaction ends, nothing is in it.
	end := kmsg.NewPtrEndTxnRequest()
	end.Version = 3
	end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = id, pid, epoch, false
	if r := c.roundTrip(end).(*kmsg.EndTxnResponse); r.ErrorCode != 0 {
		t.Fatalf("EndTxn: %s", errName(r.ErrorCode))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		g := verify(txnV4(id, pid, epoch, true, "t", 0))[id+" t-0"]
		if g == kerr.InvalidTxnState.Code {
			break
		}
		if g != kerr.ConcurrentTransactions.Code || time.Now().After(deadline) {
			t.Fatalf("verify after the abort: %s", errName(g))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAddPartitionsToTxnV4ACLs: v4 needs CLUSTER_ACTION on the cluster
// (it is the brokers' form): alice is refused with a top-level
// CLUSTER_AUTHORIZATION_FAILED; a super user gets the per-partition
// answers.
func TestAddPartitionsToTxnV4ACLs(t *testing.T) {
	tb := startBroker(t, aclProps()...)
	ctx := testCtx(t, 30*time.Second)
	v4 := func() *kmsg.AddPartitionsToTxnRequest {
		req := kmsg.NewPtrAddPartitionsToTxnRequest()
		req.Transactions = append(req.Transactions, txnV4("tx", 1, 0, true, "t", 0))
		return req
	}
	// Straight to the broker: franz-go's sharded path would look up the
	// transaction coordinator first, which alice may not.
	kresp, err := aclClient(t, tb.addr, "alice").Broker(1).Request(ctx, v4())
	if err != nil {
		t.Fatal(err)
	}
	if resp := kresp.(*kmsg.AddPartitionsToTxnResponse); resp.Version != 4 || resp.ErrorCode != kerr.ClusterAuthorizationFailed.Code {
		t.Errorf("alice, v4: v%d %s", resp.Version, errName(resp.ErrorCode))
	}
	kresp, err = aclClient(t, tb.addr, "admin").Broker(1).Request(ctx, v4())
	if err != nil {
		t.Fatal(err)
	}
	if resp := kresp.(*kmsg.AddPartitionsToTxnResponse); resp.ErrorCode != 0 || len(resp.Transactions) != 1 ||
		resp.Transactions[0].Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("admin, v4: %+v", resp)
	}
}
