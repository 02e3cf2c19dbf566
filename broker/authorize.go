package broker

// Enforcing the ACLs (acl.go) on every request, as Kafka's KafkaApis does,
// before the request's handler runs, so that the handlers stay as they
// are: a request the principal may not make at all is answered with its
// authorization error (errorResponse); the items of a request (topics,
// groups, resources) the principal may not touch are taken out of it, and
// answered with their error once the handler has answered the rest.
//
// The operations each request needs, Kafka's:
//
//	Produce                      WRITE on each topic
//	Fetch, OffsetCommit topics   READ on each topic
//	ListOffsets, Metadata,
//	  OffsetForLeaderEpoch,
//	  OffsetFetch topics         DESCRIBE on each topic (Metadata of every
//	                             topic lists only those)
//	Metadata auto-creation       CREATE on the cluster or the topic
//	CreateTopics                 CREATE on the cluster or the topic
//	DeleteTopics, DeleteRecords  DELETE on each topic
//	CreatePartitions             ALTER on each topic
//	DescribeConfigs              DESCRIBE_CONFIGS on the topic, or the cluster for a broker
//	AlterConfigs, Incremental... ALTER_CONFIGS on the topic, or the cluster for a broker
//	DescribeProducers            READ on each topic
//	InitProducerId               IDEMPOTENT_WRITE on the cluster or WRITE on some topic
//	                             (KIP-679); with a transactional id, WRITE on it
//	Produce with a transactional id, EndTxn
//	                             WRITE on the transactional id
//	AddPartitionsToTxn           WRITE on the transactional id and on each topic
//	                             (the others OPERATION_NOT_ATTEMPTED); v4+ (sent by
//	                             brokers) CLUSTER_ACTION on the cluster instead
//	AddOffsetsToTxn              WRITE on the transactional id, READ on the group
//	TxnOffsetCommit              WRITE on the transactional id, READ on the group
//	                             and on each topic
//	WriteTxnMarkers              CLUSTER_ACTION on the cluster
//	DescribeTransactions         DESCRIBE on each transactional id
//	ListTransactions             lists only the ids it may describe
//	FindCoordinator, DescribeGroups, OffsetFetch
//	                             DESCRIBE on each group
//	JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit
//	                             READ on the group
//	DeleteGroups, OffsetDelete   DELETE on the group
//	ListGroups                   DESCRIBE on the cluster, else the groups it may describe
//	DescribeLogDirs, ListPartitionReassignments
//	                             DESCRIBE on the cluster
//	ElectLeaders, AlterPartitionReassignments
//	                             ALTER on the cluster
//	AlterReplicaLogDirs          ALTER on the cluster
//	CreateDelegationToken        CREATE_TOKENS on the owner's USER resource when it
//	                             is not the requester: its handler checks, after
//	                             the connection's own check (38_create_delegation_token.go)
//	DescribeClientQuotas         DESCRIBE_CONFIGS on the cluster
//	AlterClientQuotas            ALTER_CONFIGS on the cluster
//	DescribeUserScramCredentials DESCRIBE on the cluster
//	AlterUserScramCredentials    ALTER on the cluster
//	DescribeAcls, CreateAcls, DeleteAcls: their handlers check (DESCRIBE, ALTER on the cluster)
//
// ApiVersions, SASL and DescribeCluster need nothing more than an
// authenticated connection.

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kafka's config resource types.
const (
	configTopic  = 2
	configBroker = 4
	configLogger = 8
)

// authorizeRequest applies the ACLs to req. deny, when set, is the whole
// answer; otherwise req may have lost items, and after (when set) adds
// their errors to the handler's response.
func (b *Broker) authorizeRequest(c *conn, req kmsg.Request) (deny kmsg.Response, after func(kmsg.Response)) {
	a := b.cfg.authz
	if a == nil {
		return nil, nil
	}
	principal, host := c.principal(), c.ip
	can := func(op, typ int8, name string) bool { return a.authorize(principal, host, op, typ, name) }
	topics := b.topics()
	name := func(n string, id [16]byte) string {
		if n == "" {
			if t := topics.byID[id]; t != nil {
				return t.name
			}
		}
		return n
	}
	whole := func(code int16) (kmsg.Response, func(kmsg.Response)) {
		return errorResponse(req, code, kerr.ErrorForCode(code).Error()), nil
	}
	const (
		topicDenied   = 29 // TOPIC_AUTHORIZATION_FAILED
		groupDenied   = 30 // GROUP_AUTHORIZATION_FAILED
		clusterDenied = 31 // CLUSTER_AUTHORIZATION_FAILED
		txnDenied     = 53 // TRANSACTIONAL_ID_AUTHORIZATION_FAILED
	)
	switch r := req.(type) {
	case *kmsg.ProduceRequest:
		if r.TransactionID != nil && !can(opWrite, resTransactionalID, *r.TransactionID) {
			return whole(txnDenied)
		}
		var out []kmsg.ProduceRequestTopic
		r.Topics, out = split(r.Topics, func(t *kmsg.ProduceRequestTopic) bool { return can(opWrite, resTopic, name(t.Topic, t.TopicID)) })
		return nil, onResponse(out, func(resp *kmsg.ProduceResponse, t kmsg.ProduceRequestTopic) {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic, rt.TopicID = t.Topic, t.TopicID
			for _, p := range t.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, topicDenied
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		})
	case *kmsg.FetchRequest:
		var out []kmsg.FetchRequestTopic
		r.Topics, out = split(r.Topics, func(t *kmsg.FetchRequestTopic) bool { return can(opRead, resTopic, name(t.Topic, t.TopicID)) })
		return nil, onResponse(out, func(resp *kmsg.FetchResponse, t kmsg.FetchRequestTopic) {
			rt := kmsg.NewFetchResponseTopic()
			rt.Topic, rt.TopicID = t.Topic, t.TopicID
			for _, p := range t.Partitions {
				rp := kmsg.NewFetchResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, topicDenied
				rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = -1, -1, -1
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		})
	case *kmsg.ListOffsetsRequest:
		var out []kmsg.ListOffsetsRequestTopic
		r.Topics, out = split(r.Topics, func(t *kmsg.ListOffsetsRequestTopic) bool { return can(opDescribe, resTopic, t.Topic) })
		return nil, onResponse(out, func(resp *kmsg.ListOffsetsResponse, t kmsg.ListOffsetsRequestTopic) {
			rt := kmsg.NewListOffsetsResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewListOffsetsResponseTopicPartition()
				rp.Partition, rp.ErrorCode, rp.Offset, rp.Timestamp = p.Partition, topicDenied, -1, -1
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		})
	case *kmsg.OffsetForLeaderEpochRequest:
		var out []kmsg.OffsetForLeaderEpochRequestTopic
		r.Topics, out = split(r.Topics, func(t *kmsg.OffsetForLeaderEpochRequestTopic) bool { return can(opDescribe, resTopic, t.Topic) })
		return nil, onResponse(out, func(resp *kmsg.OffsetForLeaderEpochResponse, t kmsg.OffsetForLeaderEpochRequestTopic) {
			rt := kmsg.NewOffsetForLeaderEpochResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
				rp.Partition, rp.ErrorCode, rp.LeaderEpoch, rp.EndOffset = p.Partition, topicDenied, -1, -1
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		})
	case *kmsg.MetadataRequest:
		if r.Topics == nil {
			// Every topic: only those the principal may describe.
			return nil, func(kresp kmsg.Response) {
				resp := kresp.(*kmsg.MetadataResponse)
				resp.Topics = slices.DeleteFunc(resp.Topics, func(t kmsg.MetadataResponseTopic) bool {
					return t.Topic == nil || !can(opDescribe, resTopic, *t.Topic)
				})
			}
		}
		var out []kmsg.MetadataRequestTopic
		r.Topics, out = split(r.Topics, func(t *kmsg.MetadataRequestTopic) bool {
			return can(opDescribe, resTopic, name(deref(t.Topic), t.TopicID))
		})
		if r.AllowAutoTopicCreation && !can(opCreate, resCluster, clusterResourceName) {
			for _, t := range r.Topics {
				if n := name(deref(t.Topic), t.TopicID); topics.byName[n] == nil && !can(opCreate, resTopic, n) {
					r.AllowAutoTopicCreation = false // answered UNKNOWN_TOPIC_OR_PARTITION, as Kafka
				}
			}
		}
		return nil, onResponse(out, func(resp *kmsg.MetadataResponse, t kmsg.MetadataRequestTopic) {
			rt := kmsg.NewMetadataResponseTopic()
			rt.Topic, rt.TopicID, rt.ErrorCode = t.Topic, t.TopicID, topicDenied
			resp.Topics = append(resp.Topics, rt)
		})
	case *kmsg.CreateTopicsRequest:
		if can(opCreate, resCluster, clusterResourceName) {
			return nil, nil
		}
		var out []kmsg.CreateTopicsRequestTopic
		r.Topics, out = split(r.Topics, func(t *kmsg.CreateTopicsRequestTopic) bool { return can(opCreate, resTopic, t.Topic) })
		return nil, onResponse(out, func(resp *kmsg.CreateTopicsResponse, t kmsg.CreateTopicsRequestTopic) {
			rt := kmsg.NewCreateTopicsResponseTopic()
			rt.Topic, rt.ErrorCode, rt.NumPartitions, rt.ReplicationFactor = t.Topic, topicDenied, -1, -1
			resp.Topics = append(resp.Topics, rt)
		})
	case *kmsg.DeleteTopicsRequest:
		var outNames []string
		r.TopicNames, outNames = split(r.TopicNames, func(n *string) bool { return can(opDelete, resTopic, *n) })
		var out []kmsg.DeleteTopicsRequestTopic
		r.Topics, out = split(r.Topics, func(t *kmsg.DeleteTopicsRequestTopic) bool {
			return can(opDelete, resTopic, name(deref(t.Topic), t.TopicID))
		})
		if len(outNames)+len(out) == 0 {
			return nil, nil
		}
		return nil, func(kresp kmsg.Response) {
			resp := kresp.(*kmsg.DeleteTopicsResponse)
			for _, n := range outNames {
				rt := kmsg.NewDeleteTopicsResponseTopic()
				rt.Topic, rt.ErrorCode = &n, topicDenied
				resp.Topics = append(resp.Topics, rt)
			}
			for _, t := range out {
				rt := kmsg.NewDeleteTopicsResponseTopic()
				rt.Topic, rt.TopicID, rt.ErrorCode = t.Topic, t.TopicID, topicDenied
				resp.Topics = append(resp.Topics, rt)
			}
		}
	case *kmsg.CreatePartitionsRequest:
		var out []kmsg.CreatePartitionsRequestTopic
		r.Topics, out = split(r.Topics, func(t *kmsg.CreatePartitionsRequestTopic) bool { return can(opAlter, resTopic, t.Topic) })
		return nil, onResponse(out, func(resp *kmsg.CreatePartitionsResponse, t kmsg.CreatePartitionsRequestTopic) {
			rt := kmsg.NewCreatePartitionsResponseTopic()
			rt.Topic, rt.ErrorCode = t.Topic, topicDenied
			resp.Topics = append(resp.Topics, rt)
		})
	case *kmsg.DescribeConfigsRequest:
		var out []kmsg.DescribeConfigsRequestResource
		r.Resources, out = split(r.Resources, func(x *kmsg.DescribeConfigsRequestResource) bool {
			return configAllowed(can, opDescribeConfigs, int8(x.ResourceType), x.ResourceName)
		})
		return nil, onResponse(out, func(resp *kmsg.DescribeConfigsResponse, x kmsg.DescribeConfigsRequestResource) {
			rr := kmsg.NewDescribeConfigsResponseResource()
			rr.ResourceType, rr.ResourceName, rr.ErrorCode = x.ResourceType, x.ResourceName, configDenied(int8(x.ResourceType))
			resp.Resources = append(resp.Resources, rr)
		})
	case *kmsg.AlterConfigsRequest:
		var out []kmsg.AlterConfigsRequestResource
		r.Resources, out = split(r.Resources, func(x *kmsg.AlterConfigsRequestResource) bool {
			return configAllowed(can, opAlterConfigs, int8(x.ResourceType), x.ResourceName)
		})
		return nil, onResponse(out, func(resp *kmsg.AlterConfigsResponse, x kmsg.AlterConfigsRequestResource) {
			rr := kmsg.NewAlterConfigsResponseResource()
			rr.ResourceType, rr.ResourceName, rr.ErrorCode = x.ResourceType, x.ResourceName, configDenied(int8(x.ResourceType))
			resp.Resources = append(resp.Resources, rr)
		})
	case *kmsg.IncrementalAlterConfigsRequest:
		var out []kmsg.IncrementalAlterConfigsRequestResource
		r.Resources, out = split(r.Resources, func(x *kmsg.IncrementalAlterConfigsRequestResource) bool {
			return configAllowed(can, opAlterConfigs, int8(x.ResourceType), x.ResourceName)
		})
		return nil, onResponse(out, func(resp *kmsg.IncrementalAlterConfigsResponse, x kmsg.IncrementalAlterConfigsRequestResource) {
			rr := kmsg.NewIncrementalAlterConfigsResponseResource()
			rr.ResourceType, rr.ResourceName, rr.ErrorCode = x.ResourceType, x.ResourceName, configDenied(int8(x.ResourceType))
			resp.Resources = append(resp.Resources, rr)
		})
	case *kmsg.InitProducerIDRequest:
		if r.TransactionalID != nil {
			if !can(opWrite, resTransactionalID, *r.TransactionalID) {
				return whole(txnDenied)
			}
			return nil, nil
		}
		if can(opIdempotentWrite, resCluster, clusterResourceName) {
			return nil, nil
		}
		for n := range topics.byName {
			if can(opWrite, resTopic, n) {
				return nil, nil
			}
		}
		return whole(clusterDenied)
	case *kmsg.AddPartitionsToTxnRequest:
		if r.Version >= 4 {
			// The batched form, sent by brokers (KIP-890).
			if !can(opClusterAction, resCluster, clusterResourceName) {
				return whole(clusterDenied)
			}
			return nil, nil
		}
		return authorizeAddPartitions(r, can)
	case *kmsg.AddOffsetsToTxnRequest:
		if !can(opWrite, resTransactionalID, r.TransactionalID) {
			return whole(txnDenied)
		}
		if !can(opRead, resGroup, r.Group) {
			return whole(groupDenied)
		}
	case *kmsg.WriteTxnMarkersRequest:
		if !can(opClusterAction, resCluster, clusterResourceName) {
			return whole(clusterDenied)
		}
	case *kmsg.EndTxnRequest:
		if !can(opWrite, resTransactionalID, r.TransactionalID) {
			return whole(txnDenied)
		}
	case *kmsg.TxnOffsetCommitRequest:
		if !can(opWrite, resTransactionalID, r.TransactionalID) {
			return whole(txnDenied)
		}
		if !can(opRead, resGroup, r.Group) {
			return whole(groupDenied)
		}
		var out []kmsg.TxnOffsetCommitRequestTopic
		r.Topics, out = split(r.Topics, func(t *kmsg.TxnOffsetCommitRequestTopic) bool { return can(opRead, resTopic, t.Topic) })
		return nil, onResponse(out, func(resp *kmsg.TxnOffsetCommitResponse, t kmsg.TxnOffsetCommitRequestTopic) {
			rt := kmsg.NewTxnOffsetCommitResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, topicDenied
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		})
	case *kmsg.DescribeTransactionsRequest:
		var out []string
		r.TransactionalIDs, out = split(r.TransactionalIDs, func(id *string) bool { return can(opDescribe, resTransactionalID, *id) })
		return nil, onResponse(out, func(resp *kmsg.DescribeTransactionsResponse, id string) {
			st := kmsg.NewDescribeTransactionsResponseTransactionState()
			st.TransactionalID, st.ErrorCode, st.ProducerID, st.ProducerEpoch = id, txnDenied, -1, -1
			resp.TransactionStates = append(resp.TransactionStates, st)
		})
	case *kmsg.ListTransactionsRequest:
		return nil, func(kresp kmsg.Response) {
			resp := kresp.(*kmsg.ListTransactionsResponse)
			resp.TransactionStates = slices.DeleteFunc(resp.TransactionStates, func(st kmsg.ListTransactionsResponseTransactionState) bool {
				return !can(opDescribe, resTransactionalID, st.TransactionalID)
			})
		}
	case *kmsg.FindCoordinatorRequest:
		typ := resGroup
		if r.CoordinatorType == 1 {
			typ = resTransactionalID
		}
		code := int16(groupDenied)
		if typ == resTransactionalID {
			code = txnDenied
		}
		if r.Version < 4 {
			if !can(opDescribe, typ, r.CoordinatorKey) {
				return whole(code)
			}
			return nil, nil
		}
		var out []string
		r.CoordinatorKeys, out = split(r.CoordinatorKeys, func(k *string) bool { return can(opDescribe, typ, *k) })
		return nil, onResponse(out, func(resp *kmsg.FindCoordinatorResponse, k string) {
			rc := kmsg.NewFindCoordinatorResponseCoordinator()
			rc.Key, rc.NodeID, rc.Port, rc.ErrorCode = k, -1, -1, code
			resp.Coordinators = append(resp.Coordinators, rc)
		})
	case *kmsg.JoinGroupRequest:
		return groupWhole(can(opRead, resGroup, r.Group), whole)
	case *kmsg.SyncGroupRequest:
		return groupWhole(can(opRead, resGroup, r.Group), whole)
	case *kmsg.HeartbeatRequest:
		return groupWhole(can(opRead, resGroup, r.Group), whole)
	case *kmsg.LeaveGroupRequest:
		return groupWhole(can(opRead, resGroup, r.Group), whole)
	case *kmsg.OffsetDeleteRequest:
		if !can(opDelete, resGroup, r.Group) {
			return whole(groupDenied)
		}
		var out []kmsg.OffsetDeleteRequestTopic
		r.Topics, out = split(r.Topics, func(t *kmsg.OffsetDeleteRequestTopic) bool { return can(opRead, resTopic, t.Topic) })
		return nil, onResponse(out, func(resp *kmsg.OffsetDeleteResponse, t kmsg.OffsetDeleteRequestTopic) {
			rt := kmsg.NewOffsetDeleteResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewOffsetDeleteResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, topicDenied
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		})
	case *kmsg.OffsetCommitRequest:
		if !can(opRead, resGroup, r.Group) {
			return whole(groupDenied)
		}
		var out []kmsg.OffsetCommitRequestTopic
		r.Topics, out = split(r.Topics, func(t *kmsg.OffsetCommitRequestTopic) bool { return can(opRead, resTopic, name(t.Topic, t.TopicID)) })
		return nil, onResponse(out, func(resp *kmsg.OffsetCommitResponse, t kmsg.OffsetCommitRequestTopic) {
			rt := kmsg.NewOffsetCommitResponseTopic()
			rt.Topic, rt.TopicID = t.Topic, t.TopicID
			for _, p := range t.Partitions {
				rp := kmsg.NewOffsetCommitResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, topicDenied
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		})
	case *kmsg.OffsetFetchRequest:
		return b.authorizeOffsetFetch(r, can, name, whole)
	case *kmsg.DescribeGroupsRequest:
		var out []string
		r.Groups, out = split(r.Groups, func(g *string) bool { return can(opDescribe, resGroup, *g) })
		return nil, onResponse(out, func(resp *kmsg.DescribeGroupsResponse, g string) {
			rg := kmsg.NewDescribeGroupsResponseGroup()
			rg.Group, rg.ErrorCode = g, groupDenied
			resp.Groups = append(resp.Groups, rg)
		})
	case *kmsg.DeleteGroupsRequest:
		var out []string
		r.Groups, out = split(r.Groups, func(g *string) bool { return can(opDelete, resGroup, *g) })
		return nil, onResponse(out, func(resp *kmsg.DeleteGroupsResponse, g string) {
			rg := kmsg.NewDeleteGroupsResponseGroup()
			rg.Group, rg.ErrorCode = g, groupDenied
			resp.Groups = append(resp.Groups, rg)
		})
	case *kmsg.ListGroupsRequest:
		if can(opDescribe, resCluster, clusterResourceName) {
			return nil, nil
		}
		return nil, func(kresp kmsg.Response) {
			resp := kresp.(*kmsg.ListGroupsResponse)
			resp.Groups = slices.DeleteFunc(resp.Groups, func(g kmsg.ListGroupsResponseGroup) bool { return !can(opDescribe, resGroup, g.Group) })
		}
	case *kmsg.DescribeLogDirsRequest, *kmsg.ListPartitionReassignmentsRequest:
		if !can(opDescribe, resCluster, clusterResourceName) {
			return whole(clusterDenied)
		}
	case *kmsg.ElectLeadersRequest, *kmsg.AlterPartitionAssignmentsRequest:
		if !can(opAlter, resCluster, clusterResourceName) {
			return whole(clusterDenied)
		}
	case *kmsg.AlterReplicaLogDirsRequest:
		if !can(opAlter, resCluster, clusterResourceName) {
			// The response lists partitions by topic, the request by
			// dir: the generic mirror cannot answer them.
			return alterLogDirsRefused(r, clusterDenied), nil
		}
	case *kmsg.DescribeClientQuotasRequest:
		if !can(opDescribeConfigs, resCluster, clusterResourceName) {
			return whole(clusterDenied)
		}
	case *kmsg.AlterClientQuotasRequest:
		if !can(opAlterConfigs, resCluster, clusterResourceName) {
			return whole(clusterDenied)
		}
	case *kmsg.DescribeUserSCRAMCredentialsRequest:
		if !can(opDescribe, resCluster, clusterResourceName) {
			return whole(clusterDenied)
		}
	case *kmsg.AlterUserSCRAMCredentialsRequest:
		if !can(opAlter, resCluster, clusterResourceName) {
			// Every user named gets the error, as Kafka's
			// getErrorResponse; the generic mirror cannot list them.
			deny, _ := whole(clusterDenied)
			scramAlterDenied(r, deny.(*kmsg.AlterUserSCRAMCredentialsResponse), clusterDenied, kerr.ClusterAuthorizationFailed.Error())
			return deny, nil
		}
	case *kmsg.DeleteRecordsRequest:
		var out []kmsg.DeleteRecordsRequestTopic
		r.Topics, out = split(r.Topics, func(t *kmsg.DeleteRecordsRequestTopic) bool { return can(opDelete, resTopic, t.Topic) })
		return nil, onResponse(out, func(resp *kmsg.DeleteRecordsResponse, t kmsg.DeleteRecordsRequestTopic) {
			rt := kmsg.NewDeleteRecordsResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewDeleteRecordsResponseTopicPartition()
				rp.Partition, rp.ErrorCode, rp.LowWatermark = p.Partition, topicDenied, -1
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		})
	case *kmsg.DescribeProducersRequest:
		var out []kmsg.DescribeProducersRequestTopic
		r.Topics, out = split(r.Topics, func(t *kmsg.DescribeProducersRequestTopic) bool { return can(opRead, resTopic, t.Topic) })
		return nil, onResponse(out, func(resp *kmsg.DescribeProducersResponse, t kmsg.DescribeProducersRequestTopic) {
			rt := kmsg.NewDescribeProducersResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewDescribeProducersResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p, topicDenied
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		})
	}
	return nil, nil
}

// authorizeOffsetFetch: DESCRIBE on the group (each group from v8) and on
// each topic asked for; a fetch of every topic lists only those the
// principal may describe.
func (b *Broker) authorizeOffsetFetch(r *kmsg.OffsetFetchRequest, can func(op, typ int8, name string) bool,
	name func(string, [16]byte) string, whole func(int16) (kmsg.Response, func(kmsg.Response))) (kmsg.Response, func(kmsg.Response)) {
	const topicDenied, groupDenied = 29, 30
	if r.Version < 8 {
		if !can(opDescribe, resGroup, r.Group) {
			return whole(groupDenied)
		}
		if r.Topics == nil {
			return nil, func(kresp kmsg.Response) {
				resp := kresp.(*kmsg.OffsetFetchResponse)
				resp.Topics = slices.DeleteFunc(resp.Topics, func(t kmsg.OffsetFetchResponseTopic) bool { return !can(opDescribe, resTopic, t.Topic) })
			}
		}
		var out []kmsg.OffsetFetchRequestTopic
		r.Topics, out = split(r.Topics, func(t *kmsg.OffsetFetchRequestTopic) bool { return can(opDescribe, resTopic, t.Topic) })
		return nil, onResponse(out, func(resp *kmsg.OffsetFetchResponse, t kmsg.OffsetFetchRequestTopic) {
			rt := kmsg.NewOffsetFetchResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewOffsetFetchResponseTopicPartition()
				rp.Partition, rp.ErrorCode, rp.Offset, rp.LeaderEpoch = p, topicDenied, -1, -1
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		})
	}
	var deniedGroups []kmsg.OffsetFetchRequestGroup
	r.Groups, deniedGroups = split(r.Groups, func(g *kmsg.OffsetFetchRequestGroup) bool { return can(opDescribe, resGroup, g.Group) })
	type deniedTopic struct {
		group string
		t     kmsg.OffsetFetchRequestGroupTopic
	}
	var deniedTopics []deniedTopic
	everyTopic := map[string]bool{}
	for i := range r.Groups {
		g := &r.Groups[i]
		if g.Topics == nil {
			everyTopic[g.Group] = true
			continue
		}
		var out []kmsg.OffsetFetchRequestGroupTopic
		g.Topics, out = split(g.Topics, func(t *kmsg.OffsetFetchRequestGroupTopic) bool {
			return can(opDescribe, resTopic, name(t.Topic, t.TopicID))
		})
		for _, t := range out {
			deniedTopics = append(deniedTopics, deniedTopic{g.Group, t})
		}
	}
	if len(deniedGroups)+len(deniedTopics)+len(everyTopic) == 0 {
		return nil, nil
	}
	return nil, func(kresp kmsg.Response) {
		resp := kresp.(*kmsg.OffsetFetchResponse)
		for i := range resp.Groups {
			g := &resp.Groups[i]
			if everyTopic[g.Group] {
				g.Topics = slices.DeleteFunc(g.Topics, func(t kmsg.OffsetFetchResponseGroupTopic) bool {
					return !can(opDescribe, resTopic, name(t.Topic, t.TopicID))
				})
			}
			for _, d := range deniedTopics {
				if d.group != g.Group {
					continue
				}
				rt := kmsg.NewOffsetFetchResponseGroupTopic()
				rt.Topic, rt.TopicID = d.t.Topic, d.t.TopicID
				for _, p := range d.t.Partitions {
					rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					rp.Partition, rp.ErrorCode, rp.Offset, rp.LeaderEpoch = p, topicDenied, -1, -1
					rt.Partitions = append(rt.Partitions, rp)
				}
				g.Topics = append(g.Topics, rt)
			}
		}
		for _, dg := range deniedGroups {
			rg := kmsg.NewOffsetFetchResponseGroup()
			rg.Group, rg.ErrorCode = dg.Group, groupDenied
			resp.Groups = append(resp.Groups, rg)
		}
	}
}

// split keeps the items ok accepts and returns the others apart.
func split[T any](xs []T, ok func(*T) bool) (kept, out []T) {
	if xs == nil {
		return nil, nil
	}
	kept = xs[:0:0]
	for i := range xs {
		if ok(&xs[i]) {
			kept = append(kept, xs[i])
		} else {
			out = append(out, xs[i])
		}
	}
	return kept, out
}

// onResponse returns the after function that answers each item taken
// out, or nil when none was.
func onResponse[R kmsg.Response, T any](out []T, add func(R, T)) func(kmsg.Response) {
	if len(out) == 0 {
		return nil
	}
	return func(kresp kmsg.Response) {
		resp, ok := kresp.(R)
		if !ok {
			return
		}
		for _, x := range out {
			add(resp, x)
		}
	}
}

func groupWhole(allowed bool, whole func(int16) (kmsg.Response, func(kmsg.Response))) (kmsg.Response, func(kmsg.Response)) {
	if allowed {
		return nil, nil
	}
	return whole(30) // GROUP_AUTHORIZATION_FAILED
}

// configAllowed checks a config resource: a topic's own ACLs, or the
// cluster's for a broker or its loggers.
func configAllowed(can func(op, typ int8, name string) bool, op, typ int8, name string) bool {
	switch typ {
	case configTopic:
		return can(op, resTopic, name)
	case configBroker, configLogger:
		return can(op, resCluster, clusterResourceName)
	}
	return true
}

func configDenied(typ int8) int16 {
	if typ == configTopic {
		return 29 // TOPIC_AUTHORIZATION_FAILED
	}
	return 31 // CLUSTER_AUTHORIZATION_FAILED
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// authorizeAddPartitions: WRITE on the transactional id, then on every
// topic; if any topic is denied nothing is added: the denied topics get
// TOPIC_AUTHORIZATION_FAILED and the others OPERATION_NOT_ATTEMPTED, as
// Kafka answers. For v0-3 (one transaction per request); v4+ needs
// CLUSTER_ACTION instead.
func authorizeAddPartitions(r *kmsg.AddPartitionsToTxnRequest, can func(op, typ int8, name string) bool) (kmsg.Response, func(kmsg.Response)) {
	const topicDenied, txnDenied = 29, 53
	resp := r.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	resp.SetVersion(r.Version)
	answer := func(code func(topic string) int16) (kmsg.Response, func(kmsg.Response)) {
		for _, t := range r.Topics {
			rt := kmsg.NewAddPartitionsToTxnResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p, code(t.Topic)
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil
	}
	if !can(opWrite, resTransactionalID, r.TransactionalID) {
		return answer(func(string) int16 { return txnDenied })
	}
	denied := map[string]bool{}
	for _, t := range r.Topics {
		if !can(opWrite, resTopic, t.Topic) {
			denied[t.Topic] = true
		}
	}
	if len(denied) == 0 {
		return nil, nil
	}
	return answer(func(topic string) int16 {
		if denied[topic] {
			return topicDenied
		}
		return kerr.OperationNotAttempted.Code
	})
}
