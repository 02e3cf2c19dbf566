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
)

// tokenCalls makes the four delegation token calls with kadm and returns
// their errors, in key order.
func tokenCalls(ctx context.Context, adm *kadm.Client, owner *kadm.Principal) [4]error {
	var errs [4]error
	_, errs[0] = adm.CreateDelegationToken(ctx, kadm.CreateDelegationToken{Owner: owner, Renewers: []kadm.Principal{{Name: "bob"}}})
	_, errs[1] = adm.RenewDelegationToken(ctx, []byte("hmac"), time.Hour)
	_, errs[2] = adm.ExpireDelegationToken(ctx, []byte("hmac"), time.Hour)
	_, errs[3] = adm.DescribeDelegationTokens(ctx)
	return errs
}

func expectTokenErrors(t *testing.T, who string, errs [4]error, want ...*kerr.Error) {
	t.Helper()
	for i, err := range errs {
		w := want[min(i, len(want)-1)] // the last one for the rest
		if !errors.Is(err, w) {
			t.Errorf("%s, %s: %v, want %s", who, kmsg.NameForKey(int16(38+i)), err, w.Message)
		}
	}
}

// TestDelegationTokensPlaintext: over PLAINTEXT, and over SSL without a
// client certificate, every delegation token request is
// DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, at every version; over SSL with a
// client certificate it is DELEGATION_TOKEN_AUTH_DISABLED.
func TestDelegationTokensPlaintext(t *testing.T) {
	tb := startBroker(t)
	ctx := testCtx(t, 30*time.Second)
	cl := newClient(t, tb.addr)
	expectTokenErrors(t, "plaintext", tokenCalls(ctx, kadm.NewClient(cl), nil), kerr.DelegationTokenRequestNotAllowed)
	for _, req := range []kmsg.Request{
		kmsg.NewPtrCreateDelegationTokenRequest(), kmsg.NewPtrRenewDelegationTokenRequest(),
		kmsg.NewPtrExpireDelegationTokenRequest(), kmsg.NewPtrDescribeDelegationTokenRequest(),
	} {
		for v := int16(0); v <= req.MaxVersion(); v++ {
			req.SetVersion(v)
			resp, err := cl.Request(ctx, req)
			if err != nil {
				t.Fatalf("%s v%d: %v", kmsg.NameForKey(req.Key()), v, err)
			}
			if code := errorCodeOf(resp); code != kerr.DelegationTokenRequestNotAllowed.Code {
				t.Errorf("%s v%d: %s, want DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", kmsg.NameForKey(req.Key()), v, errName(code))
			}
		}
	}

	pki := newTestPKI(t)
	tlsb := startBroker(t, "listeners=SSL://127.0.0.1:0",
		"ssl.keystore.type=PEM",
		"ssl.keystore.certificate.chain="+string(pki.ServerCert),
		"ssl.keystore.key="+string(pki.ServerKey),
		"ssl.truststore.certificates="+string(pki.CAPEM),
		"ssl.client.auth=requested")
	anon := kadm.NewClient(newClient(t, tlsb.addr, kgo.DialTLSConfig(pki.ClientTLS(false))))
	expectTokenErrors(t, "SSL without a client certificate", tokenCalls(ctx, anon, nil), kerr.DelegationTokenRequestNotAllowed)
	withCert := kadm.NewClient(newClient(t, tlsb.addr, kgo.DialTLSConfig(pki.ClientTLS(true))))
	expectTokenErrors(t, "SSL with a client certificate", tokenCalls(ctx, withCert, nil), kerr.DelegationTokenAuthDisabled)
}

func errorCodeOf(resp kmsg.Response) int16 {
	switch r := resp.(type) {
	case *kmsg.CreateDelegationTokenResponse:
		return r.ErrorCode
	case *kmsg.RenewDelegationTokenResponse:
		return r.ErrorCode
	case *kmsg.ExpireDelegationTokenResponse:
		return r.ErrorCode
	case *kmsg.DescribeDelegationTokenResponse:
		return r.ErrorCode
	}
	return -1
}

// TestDelegationTokensSASL: over SASL, delegation tokens are disabled
// (DELEGATION_TOKEN_AUTH_DISABLED), as in Kafka without
// delegation.token.secret.key; with ACLs, a token for another owner needs
// CREATE_TOKENS on that user first (DELEGATION_TOKEN_AUTHORIZATION_FAILED),
// which a super user and a granted user have.
func TestDelegationTokensSASL(t *testing.T) {
	tb := startBroker(t, aclProps()...)
	ctx := testCtx(t, 30*time.Second)
	alice := kadm.NewClient(aclClient(t, tb.addr, "alice"))
	bob := &kadm.Principal{Name: "bob"}
	disabled := kerr.DelegationTokenAuthDisabled
	expectTokenErrors(t, "alice for herself", tokenCalls(ctx, alice, nil), disabled)
	expectTokenErrors(t, "alice for alice, named", tokenCalls(ctx, alice, &kadm.Principal{Name: "alice"}), disabled)
	expectTokenErrors(t, "alice for bob", tokenCalls(ctx, alice, bob), kerr.DelegationTokenAuthorizationFailed, disabled)
	admin := aclClient(t, tb.addr, "admin")
	expectTokenErrors(t, "admin for bob", tokenCalls(ctx, kadm.NewClient(admin), bob), disabled)

	// CREATE_TOKENS on User:bob (kadm has no USER resources: kmsg).
	create := kmsg.NewPtrCreateACLsRequest()
	c := kmsg.NewCreateACLsRequestCreation()
	c.ResourceType, c.ResourceName, c.ResourcePatternType = kmsg.ACLResourceTypeUser, "User:bob", kmsg.ACLResourcePatternTypeLiteral
	c.Principal, c.Host = "User:alice", "*"
	c.Operation, c.PermissionType = kmsg.ACLOperationCreateTokens, kmsg.ACLPermissionTypeAllow
	create.Creations = append(create.Creations, c)
	cresp, err := create.RequestWith(ctx, admin)
	if err != nil || cresp.Results[0].ErrorCode != 0 {
		t.Fatalf("grant alice CREATE_TOKENS on User:bob: %+v %v", cresp, err)
	}
	expectTokenErrors(t, "alice for bob, granted", tokenCalls(ctx, alice, bob), disabled)

	// The response names the owner and, from v3, the requester.
	req := kmsg.NewPtrCreateDelegationTokenRequest()
	typ, name := "User", "bob"
	req.OwnerPrincipalType, req.OwnerPrincipalName = &typ, &name
	resp, err := req.RequestWith(ctx, aclClient(t, tb.addr, "carol"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != kerr.DelegationTokenAuthorizationFailed.Code || resp.PrincipalName != "bob" || resp.PrincipalType != "User" ||
		resp.TokenRequesterPrincipalName != "carol" || resp.TokenID != "" || len(resp.HMAC) != 0 {
		t.Errorf("carol for bob: %+v", resp)
	}

	// Describing no owner at all is refused the same way.
	dreq := kmsg.NewPtrDescribeDelegationTokenRequest()
	dreq.Owners = []kmsg.DescribeDelegationTokenRequestOwner{}
	dresp, err := dreq.RequestWith(ctx, admin)
	if err != nil || dresp.ErrorCode != disabled.Code || len(dresp.TokenDetails) != 0 {
		t.Errorf("describe, empty owners: %+v %v", dresp, err)
	}

	// Without an authorizer, alice may ask for bob's token: disabled.
	open := startBroker(t, aclProps()[:3]...)
	expectTokenErrors(t, "no authorizer, alice for bob", tokenCalls(ctx, kadm.NewClient(aclClient(t, open.addr, "alice")), bob), disabled)
}

// TestDelegationTokenSecretRefused: a delegation token secret (either
// name) stops the broker from starting, naming the key; the other
// delegation.token.* keys are accepted and not used.
func TestDelegationTokenSecretRefused(t *testing.T) {
	for _, key := range []string{"delegation.token.secret.key", "delegation.token.master.key"} {
		_, err := testConfig(t.TempDir(), key+"=s3cret")
		if err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "not implemented") {
			t.Errorf("%s set: %v", key, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
	if _, err := testConfig(t.TempDir(), "delegation.token.secret.key=", "delegation.token.max.lifetime.ms=3600000",
		"delegation.token.expiry.time.ms=60000", "delegation.token.expiry.check.interval.ms=1000"); err != nil {
		t.Errorf("unused delegation.token keys: %v", err)
	}
	if _, err := testConfig(t.TempDir(), "delegation.token.max.lifetime.ms=0"); err == nil || !strings.Contains(err.Error(), "delegation.token.max.lifetime.ms") {
		t.Errorf("delegation.token.max.lifetime.ms=0: %v", err)
	}
}
