package broker

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeUserScramCredentials: v0-0
//
// Behavior:
// * Lists the SCRAM credentials stored with AlterUserScramCredentials
//   (scramstore.go): for each user its mechanisms and iteration counts,
//   never salts or keys. Users null or empty: every user with a stored
//   credential, in name order.
// * A user named that has no stored credential is RESOURCE_NOT_FOUND; a
//   user named twice is DUPLICATE_RESOURCE (once), as Kafka.
// * Users from the JAAS user_NAME options of server.properties are
//   configuration, not stored credentials, and are not listed.
// * Needs DESCRIBE on the cluster, else CLUSTER_AUTHORIZATION_FAILED
//   (authorize.go).

func handleDescribeUserScramCredentials(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DescribeUserSCRAMCredentialsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeUserSCRAMCredentialsResponse)
	users := b.cfg.scram.users()
	result := func(name string) kmsg.DescribeUserSCRAMCredentialsResponseResult {
		r := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		r.User = name
		for _, info := range users[name] {
			ci := kmsg.NewDescribeUserSCRAMCredentialsResponseResultCredentialInfo()
			ci.Mechanism, ci.Iterations = scramMechanismCode(info.mech), int32(info.iterations)
			r.CredentialInfos = append(r.CredentialInfos, ci)
		}
		return r
	}
	if len(req.Users) == 0 {
		names := make([]string, 0, len(users))
		for u := range users {
			names = append(names, u)
		}
		sort.Strings(names)
		for _, u := range names {
			resp.Results = append(resp.Results, result(u))
		}
		return reply{resp: resp}
	}
	count := map[string]int{}
	for _, u := range req.Users {
		count[u.Name]++
	}
	done := map[string]bool{}
	for _, u := range req.Users {
		if done[u.Name] {
			continue
		}
		done[u.Name] = true
		r := result(u.Name)
		switch {
		case count[u.Name] > 1:
			msg := "Cannot describe SCRAM credentials for the same user twice in a single request"
			r.CredentialInfos, r.ErrorCode, r.ErrorMessage = nil, kerr.DuplicateResource.Code, &msg
		case len(users[u.Name]) == 0:
			msg := "Attempt to describe a user credential that does not exist"
			r.ErrorCode, r.ErrorMessage = kerr.ResourceNotFound.Code, &msg
		}
		resp.Results = append(resp.Results, r)
	}
	return reply{resp: resp}
}
