package broker

import (
	"testing"
)

// TestAuthorizeDecisions: Kafka's StandardAuthorizer rules, one case per
// rule.
func TestAuthorizeDecisions(t *testing.T) {
	allow := func(typ int8, name string, pat int8, principal, host string, op int8) acl {
		return acl{typ, name, pat, principal, host, op, permAllow}
	}
	deny := func(typ int8, name string, pat int8, principal, host string, op int8) acl {
		return acl{typ, name, pat, principal, host, op, permDeny}
	}
	type ask struct {
		principal, host string
		op, typ         int8
		name            string
		want            bool
	}
	for _, tc := range []struct {
		name         string
		acls         []acl
		allowIfNoACL bool
		asks         []ask
	}{
		{"no ACL: denied by default", nil, false, []ask{{"User:alice", "10.0.0.1", opRead, resTopic, "logs", false}}},
		{"no ACL: allow.everyone.if.no.acl.found", nil, true, []ask{{"User:alice", "10.0.0.1", opRead, resTopic, "logs", true}}},
		{"literal allow for one principal", []acl{allow(resTopic, "logs", patLiteral, "User:alice", "*", opRead)}, true, []ask{
			{"User:alice", "10.0.0.1", opRead, resTopic, "logs", true},
			{"User:bob", "10.0.0.1", opRead, resTopic, "logs", false}, // an ACL exists for the topic: no fallback
			{"User:alice", "10.0.0.1", opWrite, resTopic, "logs", false},
			{"User:alice", "10.0.0.1", opRead, resTopic, "logs2", true}, // no ACL for logs2, fallback true
		}},
		{"implied DESCRIBE and DESCRIBE_CONFIGS", []acl{
			allow(resTopic, "t", patLiteral, "User:alice", "*", opWrite),
			allow(resTopic, "t", patLiteral, "User:alice", "*", opAlterConfigs),
		}, false, []ask{
			{"User:alice", "h", opDescribe, resTopic, "t", true},
			{"User:alice", "h", opDescribeConfigs, resTopic, "t", true},
			{"User:alice", "h", opRead, resTopic, "t", false},
		}},
		{"ALL and the wildcard name and principal", []acl{allow(resGroup, "*", patLiteral, "User:*", "*", opAll)}, false, []ask{
			{"User:anyone", "h", opRead, resGroup, "g1", true},
			{"User:anyone", "h", opRead, resTopic, "g1", false},
		}},
		{"prefixed patterns", []acl{allow(resTopic, "web-", patPrefixed, "User:alice", "*", opRead)}, false, []ask{
			{"User:alice", "h", opRead, resTopic, "web-access", true},
			{"User:alice", "h", opRead, resTopic, "app-web-access", false},
		}},
		{"deny over allow, and host", []acl{
			allow(resTopic, "*", patLiteral, "User:alice", "*", opAll),
			deny(resTopic, "secret", patLiteral, "User:alice", "10.0.0.9", opRead),
		}, false, []ask{
			{"User:alice", "10.0.0.9", opRead, resTopic, "secret", false},
			{"User:alice", "10.0.0.1", opRead, resTopic, "secret", true},
			{"User:alice", "10.0.0.9", opWrite, resTopic, "secret", true}, // DENY READ denies READ alone
		}},
		{"deny ALL", []acl{
			allow(resTopic, "t", patLiteral, "User:*", "*", opRead),
			deny(resTopic, "t", patPrefixed, "User:mallory", "*", opAll),
		}, false, []ask{
			{"User:mallory", "h", opDescribe, resTopic, "t", false},
			{"User:alice", "h", opRead, resTopic, "t", true},
		}},
		{"super users", []acl{deny(resTopic, "*", patLiteral, "User:*", "*", opAll)}, false, []ask{
			{"User:admin", "h", opWrite, resTopic, "t", true},
			{"User:alice", "h", opWrite, resTopic, "t", false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := newAuthorizer(t.TempDir(), []string{"User:admin"}, tc.allowIfNoACL)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.create(tc.acls); err != nil {
				t.Fatal(err)
			}
			for _, q := range tc.asks {
				if got := a.authorize(q.principal, q.host, q.op, q.typ, q.name); got != q.want {
					t.Errorf("%s from %s, op %d on %d:%s: %v, want %v", q.principal, q.host, q.op, q.typ, q.name, got, q.want)
				}
			}
		})
	}
	var nobody *authorizer
	if !nobody.authorize("User:ANONYMOUS", "h", opWrite, resTopic, "t") {
		t.Error("without an authorizer everything is allowed")
	}
}

// TestACLFiltersAndPersistence: DescribeAcls/DeleteAcls filters (ANY,
// MATCH, exact pattern types) and the ACLs surviving a reload.
func TestACLFiltersAndPersistence(t *testing.T) {
	dir := t.TempDir()
	a, err := newAuthorizer(dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	xs := []acl{
		{resTopic, "web-access", patLiteral, "User:alice", "*", opRead, permAllow},
		{resTopic, "web-", patPrefixed, "User:bob", "*", opWrite, permAllow},
		{resTopic, "*", patLiteral, "User:carol", "*", opDescribe, permAllow},
		{resGroup, "g", patLiteral, "User:alice", "*", opRead, permAllow},
	}
	if err := a.create(append(xs, xs[0])); err != nil { // the repeat is kept once
		t.Fatal(err)
	}
	name := func(s string) *string { return &s }
	count := func(f aclFilter) int { return len(a.describe(f)) }
	for _, tc := range []struct {
		f    aclFilter
		want int
	}{
		{aclFilter{ResourceType: aclAny, PatternType: aclAny, Operation: aclAny, Permission: aclAny}, 4},
		{aclFilter{ResourceType: resTopic, PatternType: aclAny, Operation: aclAny, Permission: aclAny}, 3},
		{aclFilter{ResourceType: resTopic, ResourceName: name("web-access"), PatternType: patMatch, Operation: aclAny, Permission: aclAny}, 3},
		{aclFilter{ResourceType: resTopic, ResourceName: name("web-access"), PatternType: patLiteral, Operation: aclAny, Permission: aclAny}, 1},
		{aclFilter{ResourceType: aclAny, PatternType: patPrefixed, Operation: aclAny, Permission: aclAny}, 1},
		{aclFilter{ResourceType: aclAny, PatternType: aclAny, Principal: name("User:alice"), Operation: opRead, Permission: permAllow}, 2},
	} {
		if got := count(tc.f); got != tc.want {
			t.Errorf("filter %+v: %d ACLs, want %d", tc.f, got, tc.want)
		}
	}
	gone, err := a.remove([]aclFilter{{ResourceType: resGroup, PatternType: aclAny, Operation: aclAny, Permission: aclAny}})
	if err != nil || len(gone) != 1 || len(gone[0]) != 1 || gone[0][0] != xs[3] {
		t.Fatalf("remove: %v %v", gone, err)
	}
	b, err := newAuthorizer(dir, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.describe(aclFilter{ResourceType: aclAny, PatternType: aclAny, Operation: aclAny, Permission: aclAny}); len(got) != 3 {
		t.Fatalf("after a reload: %v", got)
	}
	for _, bad := range []acl{
		{resCluster, "other", patLiteral, "User:a", "*", opAlter, permAllow},
		{resTopic, "*", patPrefixed, "User:a", "*", opRead, permAllow},
		{resTopic, "t", patLiteral, "alice", "*", opRead, permAllow},
		{aclAny, "t", patLiteral, "User:a", "*", opRead, permAllow},
	} {
		if checkACL(&bad) == "" {
			t.Errorf("%+v accepted", bad)
		}
	}
}
