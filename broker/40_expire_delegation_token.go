package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ExpireDelegationToken: v0-2
//
// Behavior:
// * Delegation tokens are not enabled (see 38_create_delegation_token.go),
//   so no token exists to expire: a request over a connection that is not
//   authenticated with SASL or a TLS client certificate is
//   DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, any other
//   DELEGATION_TOKEN_AUTH_DISABLED, as in Kafka without
//   delegation.token.secret.key. ExpiryTimestamp is -1.
//
// Not done:
// * Token expiry: tokens are never issued.
//
// Version notes:
// * v1: no change
// * v2: flexible versions

func handleExpireDelegationToken(_ *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.ExpireDelegationTokenRequest)
	resp := req.ResponseKind().(*kmsg.ExpireDelegationTokenResponse)
	resp.ExpiryTimestamp = -1
	resp.ErrorCode = tokenRequestError(c)
	return reply{resp: resp}
}
