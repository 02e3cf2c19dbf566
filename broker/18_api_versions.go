package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ApiVersions: v0-5
//
// Behavior:
// * Lists every key this broker serves (the group coordinator's included)
//   with its version range, capped by emulate.kafka.version when set.
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
	if req.Version >= 3 && (!validSoftwareName(req.ClientSoftwareName) || !validSoftwareName(req.ClientSoftwareVersion)) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return reply{resp: resp}
	}
	if req.Version >= 5 {
		hasCluster, hasNode := req.ClusterID != nil, req.NodeID != -1
		switch {
		case hasCluster != hasNode:
			resp.ErrorCode = kerr.InvalidRequest.Code
			return reply{resp: resp}
		case hasCluster && (*req.ClusterID != b.clusterID || req.NodeID != b.cfg.NodeID):
			resp.ErrorCode = kerr.RebootstrapRequired.Code
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
		k.ApiKey, k.MinVersion, k.MaxVersion = v.key, v.min, v.max
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

// validSoftwareName is Kafka's check of client software names and
// versions: alphanumerics at both ends, dots and dashes allowed inside.
func validSoftwareName(s string) bool {
	alnum := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	if s == "" || !alnum(s[0]) || !alnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !alnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}
