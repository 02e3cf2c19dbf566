package broker

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// AlterUserScramCredentials: v0-0
//
// Behavior:
// * Upsertions carry the user, the mechanism (1 SCRAM-SHA-256, 2
//   SCRAM-SHA-512), the iterations, the salt and the salted password (the
//   client salts and hashes; the password never reaches the broker). The
//   broker keeps the salt, the iterations, StoredKey and ServerKey
//   (scramstore.go), saved in scram-credentials.json before answering.
//   Deletions name a user and a mechanism.
// * One result per user named. A user's changes are applied together or
//   not at all: a duplicate (user, mechanism) pair in the request is
//   DUPLICATE_RESOURCE; an empty name, iterations outside 4096-16384 or an
//   empty salt or salted password UNACCEPTABLE_CREDENTIAL; an unknown
//   mechanism UNSUPPORTED_SASL_MECHANISM; deleting a credential that is
//   not stored RESOURCE_NOT_FOUND, as Kafka. The other users are altered.
// * Usable at once: the next SASL exchange of a changed user uses its new
//   credential, a deleted one is refused (unless server.properties still
//   has the user as a JAAS option); connections already authenticated
//   stay, as in Kafka. Credentials are stored whether or not their
//   mechanism is in sasl.enabled.mechanisms, as in Kafka; authentication
//   uses them only where it is.
// * Needs ALTER on the cluster, else every user is
//   CLUSTER_AUTHORIZATION_FAILED (authorize.go).

func handleAlterUserScramCredentials(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.AlterUserSCRAMCredentialsRequest)
	resp := req.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)
	type outcome struct {
		code int16
		msg  string
	}
	var order []string
	outcomes := map[string]*outcome{}
	fail := func(user string, code int16, msg string) {
		if o := outcomes[user]; o.code == 0 {
			o.code, o.msg = code, msg
		}
	}
	pairs := map[string]int{}
	note := func(user string, mech int8) {
		if outcomes[user] == nil {
			outcomes[user] = &outcome{}
			order = append(order, user)
		}
		pairs[strconv.Itoa(int(mech))+":"+user]++
	}
	for _, d := range req.Deletions {
		note(d.Name, d.Mechanism)
	}
	for _, u := range req.Upsertions {
		note(u.Name, u.Mechanism)
	}
	check := func(user string, mech int8) {
		switch {
		case pairs[strconv.Itoa(int(mech))+":"+user] > 1:
			fail(user, kerr.DuplicateResource.Code, "A user credential cannot be altered twice in the same request")
		case user == "":
			fail(user, kerr.UnacceptableCredential.Code, "Username must not be empty")
		case scramMechanismName(mech) == "":
			fail(user, kerr.UnsupportedSaslMechanism.Code, "Unknown SCRAM mechanism")
		}
	}
	for _, d := range req.Deletions {
		check(d.Name, d.Mechanism)
	}
	for _, u := range req.Upsertions {
		check(u.Name, u.Mechanism)
		switch {
		case u.Iterations < scramMinIterations:
			fail(u.Name, kerr.UnacceptableCredential.Code, "Too few iterations")
		case u.Iterations > scramMaxIterations:
			fail(u.Name, kerr.UnacceptableCredential.Code, "Too many iterations")
		case len(u.Salt) == 0:
			fail(u.Name, kerr.UnacceptableCredential.Code, "Salt must not be empty")
		case len(u.SaltedPassword) == 0:
			fail(u.Name, kerr.UnacceptableCredential.Code, "Salted password must not be empty")
		}
	}

	var changes []scramChange
	for _, d := range req.Deletions {
		if outcomes[d.Name].code == 0 {
			changes = append(changes, scramChange{user: d.Name, mech: scramMechanismName(d.Mechanism)})
		}
	}
	for _, u := range req.Upsertions {
		if outcomes[u.Name].code == 0 {
			mech := scramMechanismName(u.Mechanism)
			cred := scramCredentialFromSalted(mech, u.Salt, u.SaltedPassword, int(u.Iterations))
			changes = append(changes, scramChange{user: u.Name, mech: mech, cred: &cred})
		}
	}
	if len(changes) > 0 {
		missing, err := b.cfg.scram.alter(changes)
		for user := range missing {
			fail(user, kerr.ResourceNotFound.Code, "Attempt to delete a user credential that does not exist")
		}
		var altered []string
		for _, ch := range changes {
			if o := outcomes[ch.user]; o.code == 0 {
				if err != nil {
					fail(ch.user, kerr.UnknownServerError.Code, "saving the SCRAM credentials: "+err.Error())
				} else if len(altered) == 0 || altered[len(altered)-1] != ch.user {
					altered = append(altered, ch.user)
				}
			}
		}
		if err != nil {
			b.log.Error("saving the SCRAM credentials", "err", err)
		} else if len(altered) > 0 {
			b.log.Info("SCRAM credentials altered", "principal", c.principal(), "users", altered)
		}
	}
	for _, user := range order {
		r := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		r.User = user
		if o := outcomes[user]; o.code != 0 {
			msg := o.msg
			r.ErrorCode, r.ErrorMessage = o.code, &msg
		}
		resp.Results = append(resp.Results, r)
	}
	return reply{resp: resp}
}

// scramAlterDenied answers every user of req with code (authorize.go).
func scramAlterDenied(req *kmsg.AlterUserSCRAMCredentialsRequest, resp *kmsg.AlterUserSCRAMCredentialsResponse, code int16, msg string) {
	seen := map[string]bool{}
	add := func(user string) {
		if seen[user] {
			return
		}
		seen[user] = true
		r := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
		m := msg
		r.User, r.ErrorCode, r.ErrorMessage = user, code, &m
		resp.Results = append(resp.Results, r)
	}
	for _, d := range req.Deletions {
		add(d.Name)
	}
	for _, u := range req.Upsertions {
		add(u.Name)
	}
}
