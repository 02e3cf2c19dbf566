package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeDelegationToken: v0-3
//
// Behavior:
// * Delegation tokens are not enabled (see 38_create_delegation_token.go):
//   a request over a connection that is not authenticated with SASL or a
//   TLS client certificate is DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, any
//   other DELEGATION_TOKEN_AUTH_DISABLED, with no token details, as in
//   Kafka without delegation.token.secret.key (whatever owners are asked
//   for, an empty list included).
//
// Not done:
// * Listing tokens: tokens are never issued.
//
// Version notes:
// * v1: no change
// * v2: flexible versions
// * v3: the token requester in each token detail (KIP-373)

func handleDescribeDelegationToken(_ *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DescribeDelegationTokenRequest)
	resp := req.ResponseKind().(*kmsg.DescribeDelegationTokenResponse)
	resp.ErrorCode = tokenRequestError(c)
	return reply{resp: resp}
}
