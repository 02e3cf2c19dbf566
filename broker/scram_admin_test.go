package broker

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// scramAdminProps: a SASL_PLAINTEXT listener with saslProps' users (admin
// and alice for PLAIN, alice for SCRAM-SHA-256, bob for SCRAM-SHA-512).
func scramAdminProps(extra ...string) []string {
	return append(append(saslProps("SASL_PLAINTEXT"), "listeners=SASL_PLAINTEXT://127.0.0.1:0"), extra...)
}

func plainAdmin(t *testing.T, addr string) (*kadm.Client, *kgo.Client) {
	t.Helper()
	cl := newClient(t, addr, kgo.SASL(plain.Auth{User: "admin", Pass: "admin-secret"}.AsMechanism()))
	return kadm.NewClient(cl), cl
}

// scramLogin authenticates with SCRAM as user and sends one request.
func scramLogin(t *testing.T, addr, mech, user, pass string) error {
	t.Helper()
	a := scram.Auth{User: user, Pass: pass}
	m := a.AsSha256Mechanism()
	if mech == MechanismScramSHA512 {
		m = a.AsSha512Mechanism()
	}
	cl := newClient(t, addr, kgo.SASL(m))
	_, err := cl.Request(testCtx(t, 10*time.Second), kmsg.NewPtrMetadataRequest())
	return err
}

func wantLogin(t *testing.T, addr, mech, user, pass string, ok bool) {
	t.Helper()
	err := scramLogin(t, addr, mech, user, pass)
	switch {
	case ok && err != nil:
		t.Fatalf("%s %s/%q: %v", mech, user, pass, err)
	case !ok && !errors.Is(err, kerr.SaslAuthenticationFailed):
		t.Fatalf("%s %s/%q: want SASL_AUTHENTICATION_FAILED, got %v", mech, user, pass, err)
	}
}

func alterOK(t *testing.T, adm *kadm.Client, del []kadm.DeleteSCRAM, up []kadm.UpsertSCRAM) {
	t.Helper()
	res, err := adm.AlterUserSCRAMs(testCtx(t, 10*time.Second), del, up)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v %s", r.User, r.Err, r.ErrMessage)
		}
	}
}

// TestScramAdminFranzGo: users created, changed and deleted with kadm
// authenticate (or stop authenticating) at their next exchange; a stored
// credential overrides the JAAS one; Describe shows mechanisms and
// iterations; the credentials survive a restart and are kept salted and
// hashed only.
func TestScramAdminFranzGo(t *testing.T) {
	dir := t.TempDir()
	tb := startBrokerIn(t, dir, scramAdminProps()...)
	adm, _ := plainAdmin(t, tb.addr)
	ctx := testCtx(t, 60*time.Second)

	wantLogin(t, tb.addr, MechanismScramSHA256, "carol", "carol-pw", false)
	alterOK(t, adm, nil, []kadm.UpsertSCRAM{
		{User: "carol", Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "carol-pw"},
		{User: "carol", Mechanism: kadm.ScramSha512, Iterations: 8192, Password: "carol-pw-512"},
		{User: "dave", Mechanism: kadm.ScramSha512, Iterations: 16384, Password: "dave-pw"},
		{User: "alice", Mechanism: kadm.ScramSha256, Iterations: 5000, Password: "alice-new"},
	})
	wantLogin(t, tb.addr, MechanismScramSHA256, "carol", "carol-pw", true)
	wantLogin(t, tb.addr, MechanismScramSHA512, "carol", "carol-pw-512", true)
	wantLogin(t, tb.addr, MechanismScramSHA256, "carol", "wrong", false)
	wantLogin(t, tb.addr, MechanismScramSHA512, "carol", "carol-pw", false)
	wantLogin(t, tb.addr, MechanismScramSHA512, "dave", "dave-pw", true)
	// The stored credential wins over the JAAS user_alice.
	wantLogin(t, tb.addr, MechanismScramSHA256, "alice", "alice-new", true)
	wantLogin(t, tb.addr, MechanismScramSHA256, "alice", "alice-secret", false)
	// PLAIN users are not SCRAM's.
	if err := roundTripFranz(t, tb.addr, "scram-admin", kgo.SASL(scram.Auth{User: "carol", Pass: "carol-pw"}.AsSha256Mechanism())); err != nil {
		t.Fatal(err)
	}

	d, err := adm.DescribeUserSCRAMs(ctx)
	if err != nil || d.Error() != nil {
		t.Fatal(err, d.Error())
	}
	if len(d) != 3 || len(d["carol"].CredInfos) != 2 || d["carol"].CredInfos[0] != (kadm.CredInfo{Mechanism: kadm.ScramSha256, Iterations: 4096}) ||
		d["carol"].CredInfos[1] != (kadm.CredInfo{Mechanism: kadm.ScramSha512, Iterations: 8192}) ||
		len(d["dave"].CredInfos) != 1 || d["dave"].CredInfos[0].Iterations != 16384 || len(d["alice"].CredInfos) != 1 {
		t.Fatalf("described %+v", d)
	}
	d, err = adm.DescribeUserSCRAMs(ctx, "dave")
	if err != nil || len(d) != 1 || d["dave"].Err != nil || len(d["dave"].CredInfos) != 1 {
		t.Fatalf("described %+v, %v", d, err)
	}

	// Changing a password: the old one stops working at once.
	alterOK(t, adm, nil, []kadm.UpsertSCRAM{{User: "carol", Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "carol-pw2"}})
	wantLogin(t, tb.addr, MechanismScramSHA256, "carol", "carol-pw", false)
	wantLogin(t, tb.addr, MechanismScramSHA256, "carol", "carol-pw2", true)

	// An authenticated connection is not cut when its user is deleted:
	// requests to the broker's node id reuse one connection.
	kept := newClient(t, tb.addr, kgo.SASL(scram.Auth{User: "carol", Pass: "carol-pw2"}.AsSha256Mechanism()))
	md, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, kept)
	if err != nil || len(md.Brokers) != 1 {
		t.Fatal(md, err)
	}
	node := kept.Broker(int(md.Brokers[0].NodeID))
	if _, err := node.Request(ctx, kmsg.NewPtrMetadataRequest()); err != nil {
		t.Fatal(err)
	}
	alterOK(t, adm, []kadm.DeleteSCRAM{{User: "carol", Mechanism: kadm.ScramSha256}, {User: "alice", Mechanism: kadm.ScramSha256}}, nil)
	wantLogin(t, tb.addr, MechanismScramSHA256, "carol", "carol-pw2", false)
	wantLogin(t, tb.addr, MechanismScramSHA512, "carol", "carol-pw-512", true)
	// Deleting the stored credential uncovers the JAAS one.
	wantLogin(t, tb.addr, MechanismScramSHA256, "alice", "alice-secret", true)
	if _, err := node.Request(ctx, kmsg.NewPtrMetadataRequest()); err != nil {
		t.Fatalf("authenticated connection after deletion: %v", err)
	}

	// Only salted and hashed forms reach the disk.
	data, err := os.ReadFile(filepath.Join(dir, scramCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"carol-pw", "dave-pw", "alice-new"} {
		if strings.Contains(string(data), pw) {
			t.Fatalf("%s holds a password", scramCredentialsFile)
		}
	}

	tb.restart()
	wantLogin(t, tb.addr, MechanismScramSHA512, "dave", "dave-pw", true)
	wantLogin(t, tb.addr, MechanismScramSHA512, "carol", "carol-pw-512", true)
	wantLogin(t, tb.addr, MechanismScramSHA256, "carol", "carol-pw2", false)
	wantLogin(t, tb.addr, MechanismScramSHA512, "dave", "nope", false)
	adm, _ = plainAdmin(t, tb.addr)
	d, err = adm.DescribeUserSCRAMs(testCtx(t, 10*time.Second))
	if err != nil || len(d) != 2 || len(d["carol"].CredInfos) != 1 || len(d["dave"].CredInfos) != 1 {
		t.Fatalf("after restart: %+v, %v", d, err)
	}
}

func saltedUpsert(name string, mech int8, iterations int32, salt []byte, pw string) kmsg.AlterUserSCRAMCredentialsRequestUpsertion {
	u := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
	u.Name, u.Mechanism, u.Iterations, u.Salt = name, mech, iterations, salt
	h, n := sha256.New, sha256.Size
	if mech == 2 {
		h, n = sha512.New, sha512.Size
	}
	u.SaltedPassword, _ = pbkdf2.Key(h, pw, salt, int(max(iterations, 1)), n)
	return u
}

func scramDeletion(name string, mech int8) kmsg.AlterUserSCRAMCredentialsRequestDeletion {
	d := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
	d.Name, d.Mechanism = name, mech
	return d
}

// TestScramAdminErrors: each of Kafka's per-user errors, a user's
// changes applied all or none, credentials stored for a mechanism that is
// not enabled (and used once it is), and Describe's errors; on a PLAINTEXT
// listener, where no SASL is configured at all.
func TestScramAdminErrors(t *testing.T) {
	dir := t.TempDir()
	tb := startBrokerIn(t, dir)
	cl := newClient(t, tb.addr)
	ctx := testCtx(t, 60*time.Second)
	salt := []byte("0123456789abcdef")

	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	req.Upsertions = []kmsg.AlterUserSCRAMCredentialsRequestUpsertion{
		saltedUpsert("ok", 1, 4096, salt, "pw"),
		saltedUpsert("ok512", 2, 16384, salt, "pw"),
		saltedUpsert("dup", 1, 4096, salt, "pw"),
		saltedUpsert("dup", 1, 4096, salt, "pw2"),
		saltedUpsert("dupdel", 2, 4096, salt, "pw"),
		saltedUpsert("", 1, 4096, salt, "pw"),
		saltedUpsert("mech", 3, 4096, salt, "pw"),
		saltedUpsert("few", 1, 4095, salt, "pw"),
		saltedUpsert("many", 1, 16385, salt, "pw"),
		saltedUpsert("nosalt", 1, 4096, nil, "pw"),
		saltedUpsert("partial", 1, 4096, salt, "pw"), // with a failing deletion: not applied
	}
	empty := saltedUpsert("nosalted", 1, 4096, salt, "pw")
	empty.SaltedPassword = nil
	req.Upsertions = append(req.Upsertions, empty)
	req.Deletions = []kmsg.AlterUserSCRAMCredentialsRequestDeletion{
		scramDeletion("dupdel", 2),
		scramDeletion("ghost", 1),
		scramDeletion("partial", 2),
		scramDeletion("delmech", 0),
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*kerr.Error{
		"ok": nil, "ok512": nil,
		"dup": kerr.DuplicateResource, "dupdel": kerr.DuplicateResource,
		"": kerr.UnacceptableCredential, "mech": kerr.UnsupportedSaslMechanism,
		"few": kerr.UnacceptableCredential, "many": kerr.UnacceptableCredential,
		"nosalt": kerr.UnacceptableCredential, "nosalted": kerr.UnacceptableCredential,
		"ghost": kerr.ResourceNotFound, "partial": kerr.ResourceNotFound,
		"delmech": kerr.UnsupportedSaslMechanism,
	}
	if len(resp.Results) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(resp.Results), len(want), resp.Results)
	}
	for _, r := range resp.Results {
		w, ok := want[r.User]
		if !ok {
			t.Fatalf("unexpected result for %q", r.User)
		}
		if got := kerr.ErrorForCode(r.ErrorCode); !errors.Is(got, w) && (w != nil || got != nil) {
			t.Errorf("%q: got %v (%v), want %v", r.User, got, deref(r.ErrorMessage), w)
		}
		if w != nil && deref(r.ErrorMessage) == "" {
			t.Errorf("%q: no message", r.User)
		}
	}

	dreq := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
	dresp, err := dreq.RequestWith(ctx, cl)
	if err != nil || dresp.ErrorCode != 0 {
		t.Fatal(err, dresp)
	}
	var names []string
	for _, r := range dresp.Results {
		names = append(names, r.User)
	}
	if strings.Join(names, ",") != "ok,ok512" {
		t.Fatalf("stored users %v, want ok and ok512 only", names)
	}
	for _, n := range []string{"ok", "ghost", "ok512", "ok"} {
		u := kmsg.NewDescribeUserSCRAMCredentialsRequestUser()
		u.Name = n
		dreq.Users = append(dreq.Users, u)
	}
	dresp, err = dreq.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int16{}
	for _, r := range dresp.Results {
		got[r.User] = r.ErrorCode
		if r.User == "ok512" && (len(r.CredentialInfos) != 1 || r.CredentialInfos[0].Mechanism != 2 || r.CredentialInfos[0].Iterations != 16384) {
			t.Fatalf("ok512: %+v", r.CredentialInfos)
		}
	}
	if len(dresp.Results) != 3 || got["ok"] != kerr.DuplicateResource.Code || got["ghost"] != kerr.ResourceNotFound.Code || got["ok512"] != 0 {
		t.Fatalf("describe: %+v", dresp.Results)
	}

	// Stored on a broker without SASL; used once the listener enables
	// the mechanism (same log dir, so the same store).
	tb.stop()
	tb2 := startBrokerIn(t, dir, "listeners=SASL_PLAINTEXT://127.0.0.1:0",
		"sasl.enabled.mechanisms=SCRAM-SHA-256",
		`listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required user_x="x";`)
	wantLogin(t, tb2.addr, MechanismScramSHA256, "ok", "pw", true)
	wantLogin(t, tb2.addr, MechanismScramSHA256, "partial", "pw", false)
	// SCRAM-SHA-512 is stored for ok512 but not enabled here.
	if err := scramLogin(t, tb2.addr, MechanismScramSHA512, "ok512", "pw"); err == nil {
		t.Fatal("SCRAM-SHA-512 authenticated while not enabled")
	}
}

// TestScramAdminSarama: sarama's ClusterAdmin upserts a user, which then
// produces through sarama with SCRAM-SHA-512, and describes it.
func TestScramAdminSarama(t *testing.T) {
	tb := startBroker(t, scramAdminProps()...)
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_0_0_0
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	cfg.Net.SASL.User, cfg.Net.SASL.Password = "admin", "admin-secret"
	adm, err := sarama.NewClusterAdmin([]string{tb.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	res, err := adm.UpsertUserScramCredentials([]sarama.AlterUserScramCredentialsUpsert{
		{Name: "erin", Mechanism: sarama.SCRAM_MECHANISM_SHA_512, Iterations: 8192, Salt: []byte("erin-salt"), Password: []byte("erin-pw")},
	})
	if err != nil || len(res) != 1 || res[0].ErrorCode != sarama.ErrNoError {
		t.Fatalf("upsert: %+v, %v", res, err)
	}
	desc, err := adm.DescribeUserScramCredentials([]string{"erin"})
	if err != nil || len(desc) != 1 || desc[0].ErrorCode != sarama.ErrNoError || len(desc[0].CredentialInfos) != 1 ||
		desc[0].CredentialInfos[0].Mechanism != sarama.SCRAM_MECHANISM_SHA_512 || desc[0].CredentialInfos[0].Iterations != 8192 {
		t.Fatalf("describe: %+v, %v", desc, err)
	}
	for _, tc := range []struct {
		pass string
		ok   bool
	}{{"erin-pw", true}, {"wrong", false}} {
		pc := sarama.NewConfig()
		pc.Version = sarama.V2_8_0_0
		pc.Net.SASL.Enable = true
		pc.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
		pc.Net.SASL.User, pc.Net.SASL.Password = "erin", tc.pass
		pc.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &saramaSCRAM{h: sha512.New} }
		pc.Producer.Return.Successes = true
		pc.Metadata.Retry.Max = 0
		p, err := sarama.NewSyncProducer([]string{tb.addr}, pc)
		if err == nil {
			_, _, err = p.SendMessage(&sarama.ProducerMessage{Topic: "scram-sarama", Value: sarama.StringEncoder("v")})
			p.Close()
		}
		if (err == nil) != tc.ok {
			t.Fatalf("password %q: %v", tc.pass, err)
		}
	}
}

// TestScramAdminAuthorizer: with ACLs on, a user that is not a super user
// and has no cluster ACL may neither describe nor alter SCRAM users; the
// super user may.
func TestScramAdminAuthorizer(t *testing.T) {
	tb := startBroker(t, aclProps()...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	aliceCl := aclClient(t, tb.addr, "alice")
	alice := kadm.NewClient(aliceCl)
	_, err := alice.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: "mallory", Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "pw"}})
	if !errors.Is(err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("alter as alice: %v", err)
	}
	// Every user named gets the error.
	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	req.Deletions = []kmsg.AlterUserSCRAMCredentialsRequestDeletion{scramDeletion("x", 1)}
	req.Upsertions = []kmsg.AlterUserSCRAMCredentialsRequestUpsertion{saltedUpsert("mallory", 1, 4096, []byte("salt"), "pw"), saltedUpsert("x", 2, 4096, []byte("salt"), "pw")}
	resp, err := req.RequestWith(ctx, aliceCl)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 2 {
		t.Fatalf("alter as alice: %+v", resp.Results)
	}
	for _, r := range resp.Results {
		if r.ErrorCode != kerr.ClusterAuthorizationFailed.Code || (r.User != "x" && r.User != "mallory") {
			t.Fatalf("alter as alice: %+v", resp.Results)
		}
	}
	if _, err := alice.DescribeUserSCRAMs(ctx); !errors.Is(err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("describe as alice: %v", err)
	}
	admin := kadm.NewClient(aclClient(t, tb.addr, "admin"))
	alterOK(t, admin, nil, []kadm.UpsertSCRAM{{User: "mallory", Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "pw"}})
	d, err := admin.DescribeUserSCRAMs(ctx)
	if err != nil || len(d) != 1 || len(d["mallory"].CredInfos) != 1 {
		t.Fatalf("describe as admin: %+v, %v", d, err)
	}
}
