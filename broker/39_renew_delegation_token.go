package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// RenewDelegationToken: v0-2
//
// Behavior:
// * Delegation tokens are not enabled (see 38_create_delegation_token.go),
//   so no token exists to renew: a request over a connection that is not
//   authenticated with SASL or a TLS client certificate is
//   DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, any other
//   DELEGATION_TOKEN_AUTH_DISABLED, as in Kafka without
//   delegation.token.secret.key. ExpiryTimestamp is -1.
//
// Not done:
// * Token renewal: tokens are never issued.
//
// Version notes:
// * v1: no change
// * v2: flexible versions

func handleRenewDelegationToken(_ *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.RenewDelegationTokenRequest)
	resp := req.ResponseKind().(*kmsg.RenewDelegationTokenResponse)
	resp.ExpiryTimestamp = -1
	resp.ErrorCode = tokenRequestError(c)
	return reply{resp: resp}
}

// tokenRequestError is the answer to a renewal, expiry or description of
// tokens: the connection may not ask, or tokens are disabled.
func tokenRequestError(c *conn) int16 {
	if !c.tokenRequestsAllowed() {
		return kerr.DelegationTokenRequestNotAllowed.Code
	}
	return kerr.DelegationTokenAuthDisabled.Code
}
