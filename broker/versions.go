package broker

import (
	"reflect"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/tributary-io/tributary/broker/group"
)

// servedVersions are the API keys this package serves and the versions of
// each; every one has its own file, named by key, whose opening comment
// says what the versions mean here. The group coordinator's keys come from
// group.APIVersions.
var servedVersions = map[int16][2]int16{
	0:  {3, 13}, // Produce, 00_produce.go
	1:  {4, 18}, // Fetch, 01_fetch.go
	2:  {0, 10}, // ListOffsets, 02_list_offsets.go
	3:  {0, 13}, // Metadata, 03_metadata.go
	10: {0, 5},  // FindCoordinator, 10_find_coordinator.go
	17: {0, 1},  // SaslHandshake, 17_sasl_handshake.go
	18: {0, 5},  // ApiVersions, 18_api_versions.go
	19: {0, 7},  // CreateTopics, 19_create_topics.go
	20: {0, 6},  // DeleteTopics, 20_delete_topics.go
	21: {0, 2},  // DeleteRecords, 21_delete_records.go
	22: {0, 5},  // InitProducerID, 22_init_producer_id.go
	23: {0, 4},  // OffsetForLeaderEpoch, 23_offset_for_leader_epoch.go
	24: {0, 4},  // AddPartitionsToTxn, 24_add_partitions_to_txn.go
	25: {0, 4},  // AddOffsetsToTxn, 25_add_offsets_to_txn.go
	26: {0, 4},  // EndTxn, 26_end_txn.go
	27: {0, 1},  // WriteTxnMarkers, 27_write_txn_markers.go
	28: {0, 4},  // TxnOffsetCommit, 28_txn_offset_commit.go
	29: {0, 3},  // DescribeAcls, 29_describe_acls.go
	30: {0, 3},  // CreateAcls, 30_create_acls.go
	31: {0, 3},  // DeleteAcls, 31_delete_acls.go
	32: {0, 4},  // DescribeConfigs, 32_describe_configs.go
	33: {0, 2},  // AlterConfigs, 33_alter_configs.go
	34: {0, 2},  // AlterReplicaLogDirs, 34_alter_replica_log_dirs.go
	35: {0, 4},  // DescribeLogDirs, 35_describe_log_dirs.go
	36: {0, 2},  // SaslAuthenticate, 36_sasl_authenticate.go
	37: {0, 3},  // CreatePartitions, 37_create_partitions.go
	38: {0, 3},  // CreateDelegationToken, 38_create_delegation_token.go
	39: {0, 2},  // RenewDelegationToken, 39_renew_delegation_token.go
	40: {0, 2},  // ExpireDelegationToken, 40_expire_delegation_token.go
	41: {0, 3},  // DescribeDelegationToken, 41_describe_delegation_token.go
	43: {0, 2},  // ElectLeaders, 43_elect_leaders.go
	44: {0, 1},  // IncrementalAlterConfigs, 44_incremental_alter_configs.go
	45: {0, 1},  // AlterPartitionReassignments, 45_alter_partition_reassignments.go
	46: {0, 0},  // ListPartitionReassignments, 46_list_partition_reassignments.go
	48: {0, 1},  // DescribeClientQuotas, 48_describe_client_quotas.go
	49: {0, 1},  // AlterClientQuotas, 49_alter_client_quotas.go
	50: {0, 0},  // DescribeUserScramCredentials, 50_describe_user_scram_credentials.go
	51: {0, 0},  // AlterUserScramCredentials, 51_alter_user_scram_credentials.go
	55: {0, 2},  // DescribeQuorum, 55_describe_quorum.go
	60: {0, 2},  // DescribeCluster, 60_describe_cluster.go
	61: {0, 0},  // DescribeProducers, 61_describe_producers.go
	65: {0, 0},  // DescribeTransactions, 65_describe_transactions.go
	66: {0, 1},  // ListTransactions, 66_list_transactions.go
}

// handler serves one request of its key at a version within range.
type handler func(b *Broker, c *conn, req kmsg.Request) reply

var handlers = map[int16]handler{
	0:  handleProduce,
	1:  handleFetch,
	2:  handleListOffsets,
	3:  handleMetadata,
	10: handleFindCoordinator,
	17: handleSaslHandshake,
	18: handleApiVersions,
	19: handleCreateTopics,
	20: handleDeleteTopics,
	21: handleDeleteRecords,
	22: handleInitProducerID,
	23: handleOffsetForLeaderEpoch,
	24: handleAddPartitionsToTxn,
	25: handleAddOffsetsToTxn,
	26: handleEndTxn,
	27: handleWriteTxnMarkers,
	28: handleTxnOffsetCommit,
	29: handleDescribeAcls,
	30: handleCreateAcls,
	31: handleDeleteAcls,
	32: handleDescribeConfigs,
	33: handleAlterConfigs,
	34: handleAlterReplicaLogDirs,
	35: handleDescribeLogDirs,
	36: handleSaslAuthenticate,
	37: handleCreatePartitions,
	38: handleCreateDelegationToken,
	39: handleRenewDelegationToken,
	40: handleExpireDelegationToken,
	41: handleDescribeDelegationToken,
	43: handleElectLeaders,
	44: handleIncrementalAlterConfigs,
	45: handleAlterPartitionAssignments,
	46: handleListPartitionReassignments,
	48: handleDescribeClientQuotas,
	49: handleAlterClientQuotas,
	50: handleDescribeUserScramCredentials,
	51: handleAlterUserScramCredentials,
	55: handleDescribeQuorum,
	60: handleDescribeCluster,
	61: handleDescribeProducers,
	65: handleDescribeTransactions,
	66: handleListTransactions,
}

// apiVersion is one advertised key and its version range.
type apiVersion struct {
	key      int16
	min, max int16
	group    bool  // served by the group coordinator
	adMin    int16 // the MinVersion ApiVersions advertises, when below min
}

// advertisedBelow are keys advertised from a version lower than the
// oldest served, whose older versions are refused when a request comes
// (UNSUPPORTED_VERSION). Produce: librdkafka turns compression off against
// a broker whose Produce versions start above 2 (it takes that for a
// broker too old to decompress), so Apache Kafka 4.0 advertises v0-2 and
// refuses them at request time (KAFKA-18659); so does this broker.
var advertisedBelow = map[int16]int16{0: 0}

// buildVersions merges this package's keys with the coordinator's and caps
// them to the emulated Kafka release, if any. The result is what
// ApiVersions advertises and what requests are checked against.
func buildVersions(emulate string) map[int16]apiVersion {
	out := map[int16]apiVersion{}
	for k, r := range servedVersions {
		v := apiVersion{key: k, min: r[0], max: r[1], adMin: r[0]}
		if m, ok := advertisedBelow[k]; ok {
			v.adMin = m
		}
		out[k] = v
	}
	for k, r := range group.APIVersions() {
		if _, mine := out[k]; mine || r[0] < 0 || r[1] < r[0] {
			continue // FindCoordinator stays with the broker
		}
		out[k] = apiVersion{key: k, min: r[0], max: r[1], adMin: r[0], group: true}
	}
	if emulate == "" {
		return out
	}
	vs := kversion.FromString(emulate)
	if vs == nil {
		return out
	}
	for k, v := range out {
		capMax, ok := vs.LookupMaxKeyVersion(k)
		if !ok || capMax < v.min {
			delete(out, k)
			continue
		}
		v.max = min(v.max, capMax)
		out[k] = v
	}
	return out
}

func sortedVersions(vs map[int16]apiVersion) []apiVersion {
	out := make([]apiVersion, 0, len(vs))
	for _, v := range vs {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// errorResponse builds the response to req, at req's version, that refuses
// it with code: every ErrorCode field is set, the request's topics and
// partitions are mirrored so that each gets its error, and ErrorMessage
// fields carry msg. It is Kafka's AbstractRequest.getErrorResponse, done
// once for every kmsg type by walking the structures.
func errorResponse(req kmsg.Request, code int16, msg string) kmsg.Response {
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	mirror(reflect.ValueOf(req).Elem(), reflect.ValueOf(resp).Elem(), code, msg)
	return resp
}

var (
	int16Type     = reflect.TypeFor[int16]()
	stringPtrType = reflect.TypeFor[*string]()
)

func mirror(src, dst reflect.Value, code int16, msg string) {
	t := dst.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Name == "Version" || f.Name == "UnknownTags" {
			continue
		}
		dv := dst.Field(i)
		switch {
		case f.Name == "ErrorCode" && f.Type == int16Type:
			dv.SetInt(int64(code))
			continue
		case f.Name == "ErrorMessage" && f.Type == stringPtrType && msg != "":
			m := msg
			dv.Set(reflect.ValueOf(&m))
			continue
		}
		if src.Kind() != reflect.Struct {
			continue
		}
		sv := src.FieldByName(f.Name)
		if !sv.IsValid() {
			continue
		}
		switch {
		case dv.Kind() == reflect.Slice && dv.Type().Elem().Kind() == reflect.Struct &&
			sv.Kind() == reflect.Slice && sv.Type().Elem().Kind() == reflect.Struct:
			n := sv.Len()
			out := reflect.MakeSlice(dv.Type(), n, n)
			for j := range n {
				e := out.Index(j)
				if d := e.Addr().MethodByName("Default"); d.IsValid() {
					d.Call(nil)
				}
				mirror(sv.Index(j), e, code, msg)
			}
			dv.Set(out)
		case dv.Kind() == reflect.Struct && sv.Kind() == reflect.Struct:
			mirror(sv, dv, code, msg)
		case sv.Type() == dv.Type() && dv.Kind() != reflect.Slice:
			dv.Set(sv)
		}
	}
}
