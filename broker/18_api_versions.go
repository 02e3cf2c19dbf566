package broker

import (
	"regexp"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ApiVersions: v0-5
//
// Behavior:
// * Lists every key this broker serves (the group coordinator's included)
//   with its version range, capped by emulate.kafka.version when set.
//   Produce is listed from v0, as Apache Kafka 4.0 lists it, though v0-2
//   are refused with UNSUPPORTED_VERSION per partition when they come:
//   librdkafka sends uncompressed batches to a broker whose Produce starts
//   above v2 (KAFKA-18659).
// * A request at a version outside v0-5 gets a v0 response with
//   UNSUPPORTED_VERSION and the key list (KIP-511), so the client retries
//   at a version it finds there; the request body is not read. The
//   response header is always v0, whatever the version.
// * v3+: ClientSoftwareName and ClientSoftwareVersion must match
//   [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?, else INVALID_REQUEST.
// * v5+: a request naming a cluster id and node id that are not this
//   broker's gets REBOOTSTRAP_REQUIRED (KIP-1242); naming one without the
//   other is INVALID_REQUEST.
//
// Not done: feature flags (SupportedFeatures, FinalizedFeatures) are not
// advertised; no feature-gated behaviour is implemented.
//
// Version notes:
// * v1: ThrottleMillis
// * v3: flexible versions, client software name and version (KIP-511)
// * v5: ClusterID and NodeID in the request (KIP-1242)

func handleApiVersions(b *Broker, _ *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.ApiVersionsRequest)
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	if req.Version >= 3 && !(softwareNameRE.MatchString(req.ClientSoftwareName) && softwareNameRE.MatchString(req.ClientSoftwareVersion)) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return reply{resp: resp}
	}
	if req.Version >= 5 {
		if code := b.addresseeCheck(req.ClusterID, req.NodeID); code != 0 {
			resp.ErrorCode = code
			return reply{resp: resp}
		}
	}
	resp.ApiKeys = apiKeys(b)
	return reply{resp: resp}
}

func apiKeys(b *Broker) []kmsg.ApiVersionsResponseApiKey {
	var keys []kmsg.ApiVersionsResponseApiKey
	for _, v := range sortedVersions(b.versions) {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = v.key, v.adMin, v.max
		keys = append(keys, k)
	}
	return keys
}

// apiVersionsV0Unsupported answers an ApiVersions request at a version
// this broker does not serve.
func apiVersionsV0Unsupported(b *Broker) kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = apiKeys(b)
	return resp
}

// softwareNameRE is the pattern KIP-511 gives for a client's software name
// and version: one or more letters, digits, dots and dashes, starting and
// ending with a letter or digit.
var softwareNameRE = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?$`)

// addresseeCheck answers an ApiVersions v5 request that may say which
// cluster and node the client means to reach (KIP-1242): a request naming
// neither is fine; one naming only one of them is malformed; one naming
// another cluster or node was sent to the wrong broker, and the client must
// look up its bootstrap servers again.
func (b *Broker) addresseeCheck(clusterID *string, nodeID int32) int16 {
	namesCluster, namesNode := clusterID != nil, nodeID != -1
	if !namesCluster && !namesNode {
		return 0
	}
	if namesCluster != namesNode {
		return kerr.InvalidRequest.Code
	}
	if *clusterID == b.clusterID && nodeID == b.cfg.NodeID {
		return 0
	}
	return kerr.RebootstrapRequired.Code
}
