package chart

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// wildcardExceptions are the only rules that may name a wildcard resource, each with the reason.
var wildcardExceptions = []struct {
	roles              []string
	apiGroup, resource string
	verbs              []string
	why                string
}{
	{[]string{"keda-operator", "keda-operator-watched"}, "*", "*/scale", []string{"get", "update"},
		"activation goes through the /scale subresource of any scalable kind a ScaledObject targets"},
	{[]string{"keda-external-metrics-reader"}, "external.metrics.k8s.io", "*", []string{"get", "list"},
		"the resources of external.metrics.k8s.io are metric names; this role is bound to the HPA controller, not the operator"},
}

// rbacObjects are the Roles, ClusterRoles and bindings of one render.
type rbacObjects struct {
	clusterRoles        map[string]*rbacv1.ClusterRole
	roles               map[string]*rbacv1.Role // key namespace/name
	clusterRoleBindings []*rbacv1.ClusterRoleBinding
	roleBindings        []*rbacv1.RoleBinding
}

func parseRBAC(t *testing.T, objs []*unstructured.Unstructured) rbacObjects {
	t.Helper()
	r := rbacObjects{clusterRoles: map[string]*rbacv1.ClusterRole{}, roles: map[string]*rbacv1.Role{}}
	conv := func(obj *unstructured.Unstructured, into any) {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, into); err != nil {
			t.Fatalf("failed to convert %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
	for _, obj := range objs {
		switch obj.GetKind() {
		case "ClusterRole":
			cr := &rbacv1.ClusterRole{}
			conv(obj, cr)
			r.clusterRoles[cr.Name] = cr
		case "Role":
			role := &rbacv1.Role{}
			conv(obj, role)
			r.roles[role.Namespace+"/"+role.Name] = role
		case "ClusterRoleBinding":
			b := &rbacv1.ClusterRoleBinding{}
			conv(obj, b)
			r.clusterRoleBindings = append(r.clusterRoleBindings, b)
		case "RoleBinding":
			b := &rbacv1.RoleBinding{}
			conv(obj, b)
			r.roleBindings = append(r.roleBindings, b)
		}
	}
	return r
}

// TestRBACMinimal fails on wildcard verbs, wildcard resources or groups (but for the documented
// exceptions), dangerous verbs, and any list or watch of Secrets.
func TestRBACMinimal(t *testing.T) {
	for _, tc := range valueSets {
		t.Run(tc.name, func(t *testing.T) {
			r := parseRBAC(t, renderObjects(t, tc.args...))
			if len(r.clusterRoles) == 0 {
				t.Fatal("no ClusterRole rendered")
			}
			for name, cr := range r.clusterRoles {
				if cr.AggregationRule != nil {
					t.Errorf("ClusterRole %s aggregates other roles", name)
				}
				for _, p := range ruleProblems(name, cr.Rules) {
					t.Errorf("ClusterRole %s: %s", name, p)
				}
			}
			for key, role := range r.roles {
				for _, p := range ruleProblems(role.Name, role.Rules) {
					t.Errorf("Role %s: %s", key, p)
				}
			}
		})
	}
}

// ruleProblems lists what is wrong with role's rules.
func ruleProblems(role string, rules []rbacv1.PolicyRule) []string {
	var out []string
	for i, rule := range rules {
		at := fmt.Sprintf("rule %d %v %v %v", i, rule.APIGroups, rule.Resources, rule.Verbs)
		if len(rule.NonResourceURLs) > 0 {
			out = append(out, at+": nonResourceURLs are not needed (system:discovery covers discovery)")
		}
		for _, v := range rule.Verbs {
			switch v {
			case "*":
				out = append(out, at+": wildcard verb")
			case "escalate", "bind", "impersonate", "deletecollection":
				out = append(out, at+": verb "+v+" is never needed")
			}
		}
		wildGroup := slices.Contains(rule.APIGroups, "*")
		for _, res := range rule.Resources {
			if (strings.Contains(res, "*") || wildGroup) && !isException(role, rule, res) {
				out = append(out, fmt.Sprintf("%s: wildcard in resource %q or its group is not one of the documented exceptions", at, res))
			}
		}
		if len(rule.ResourceNames) == 0 && grants(rule, "", "secrets", "list", "watch") {
			out = append(out, at+": Secrets may be listed or watched")
		}
	}
	return out
}

// TestRBACChecker: the checks of TestRBACMinimal catch what they should.
func TestRBACChecker(t *testing.T) {
	rule := func(groups, resources, verbs []string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: groups, Resources: resources, Verbs: verbs}
	}
	s := func(v ...string) []string { return v }
	cases := []struct {
		name string
		role string
		rule rbacv1.PolicyRule
		bad  bool
	}{
		{"named resources", "keda-operator", rule(s("apps"), s("deployments"), s("get")), false},
		{"documented */scale", "keda-operator", rule(s("*"), s("*/scale"), s("get", "update")), false},
		{"*/scale with patch", "keda-operator", rule(s("*"), s("*/scale"), s("get", "update", "patch")), true},
		{"*/scale with delete", "keda-operator", rule(s("*"), s("*/scale"), s("get", "delete")), true},
		{"*/scale in another role", "someone-else", rule(s("*"), s("*/scale"), s("get")), true},
		{"wildcard verb", "keda-operator", rule(s("apps"), s("deployments"), s("*")), true},
		{"wildcard resource", "keda-operator", rule(s("apps"), s("*"), s("get")), true},
		{"wildcard group", "keda-operator", rule(s("*"), s("deployments"), s("get")), true},
		{"secrets get", "keda-operator", rule(s(""), s("secrets"), s("get")), false},
		{"secrets list", "keda-operator", rule(s(""), s("secrets", "configmaps"), s("get", "list")), true},
		{"secrets watch", "keda-operator", rule(s(""), s("secrets"), s("watch")), true},
		{"impersonate", "keda-operator", rule(s(""), s("serviceaccounts"), s("impersonate")), true},
		{"external metrics reader", "keda-external-metrics-reader", rule(s("external.metrics.k8s.io"), s("*"), s("get", "list")), false},
		{"external metrics writer", "keda-external-metrics-reader", rule(s("external.metrics.k8s.io"), s("*"), s("create")), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			problems := ruleProblems(tc.role, []rbacv1.PolicyRule{tc.rule})
			if bad := len(problems) > 0; bad != tc.bad {
				t.Errorf("flagged = %v (%v), want %v", bad, problems, tc.bad)
			}
		})
	}
}

func isException(role string, rule rbacv1.PolicyRule, res string) bool {
	for _, e := range wildcardExceptions {
		if !slices.Contains(e.roles, role) || e.resource != res || len(rule.APIGroups) != 1 || rule.APIGroups[0] != e.apiGroup {
			continue
		}
		extra := slices.DeleteFunc(slices.Clone(rule.Verbs), func(v string) bool { return slices.Contains(e.verbs, v) })
		return len(extra) == 0
	}
	return false
}

// grants reports whether rule allows any of verbs on group/resource.
func grants(rule rbacv1.PolicyRule, group, resource string, verbs ...string) bool {
	if !slices.Contains(rule.APIGroups, group) && !slices.Contains(rule.APIGroups, "*") {
		return false
	}
	resOK := false
	for _, r := range rule.Resources {
		if r == resource || r == "*" || (strings.HasPrefix(r, "*/") && strings.Contains(resource, "/") && strings.HasSuffix(resource, r[1:])) {
			resOK = true
		}
	}
	if !resOK {
		return false
	}
	for _, v := range verbs {
		if slices.Contains(rule.Verbs, v) || slices.Contains(rule.Verbs, "*") {
			return true
		}
	}
	return false
}

// need is one permission the operator uses; ns is where ("" for cluster-scoped objects), name the
// one object it is used on ("" for any).
type need struct {
	ns, group, resource string
	verbs               []string
	name                string
}

// operatorNeeds is what the operator reads and writes through the API when it watches ns.
func operatorNeeds(ns string, secrets bool) []need {
	out := []need{
		{ns, "keda.sh", "scaledobjects", []string{"get", "list", "watch", "patch"}, ""},
		{ns, "keda.sh", "scaledobjects/status", []string{"update"}, ""},
		{ns, "keda.sh", "scaledobjects/finalizers", []string{"update"}, ""},
		{ns, "keda.sh", "scaledjobs", []string{"get", "list", "watch", "patch"}, ""},
		{ns, "keda.sh", "scaledjobs/status", []string{"update"}, ""},
		{ns, "keda.sh", "scaledjobs/finalizers", []string{"update"}, ""},
		{ns, "batch", "jobs", []string{"get", "list", "watch", "create", "delete"}, ""},
		{ns, "keda.sh", "triggerauthentications", []string{"get", "list", "watch"}, ""},
		{ns, "keda.sh", "triggerauthentications/status", []string{"update"}, ""},
		{"", "keda.sh", "clustertriggerauthentications", []string{"get", "list", "watch"}, ""},
		{"", "keda.sh", "clustertriggerauthentications/status", []string{"update"}, ""},
		{ns, "autoscaling", "horizontalpodautoscalers", []string{"get", "list", "watch", "create", "patch", "delete"}, ""},
		{ns, "apps", "deployments/scale", []string{"get", "update"}, ""},
		{ns, "apps", "statefulsets/scale", []string{"get", "update"}, ""},
		{ns, "apps", "deployments", []string{"get"}, ""},
		{ns, "apps", "statefulsets", []string{"get"}, ""},
		{ns, "", "configmaps", []string{"get"}, ""},
		{ns, "", "serviceaccounts/token", []string{"create"}, ""},
		{namespace, "", "serviceaccounts/token", []string{"create"}, ""}, // ClusterTriggerAuthentication
		{ns, "", "events", []string{"create", "patch"}, ""},
		{ns, "", "limitranges", []string{"list"}, ""},          // cpu/memory triggers: default requests
		{ns, "", "pods", []string{"get", "list", "watch"}, ""}, // kubernetes-workload triggers, pending Jobs
		{ns, "events.k8s.io", "events", []string{"create", "patch"}, ""},
		{namespace, "coordination.k8s.io", "leases", []string{"get", "create", "update"}, ""},
		// The self-managed certificate: its Secret, and the CA injected into the APIService and the
		// webhook configuration.
		{namespace, "", "secrets", []string{"create"}, ""},
		{namespace, "", "secrets", []string{"get", "update"}, "kedaorg-certs"},
		{"", "apiregistration.k8s.io", "apiservices", []string{"get", "update"}, "v1beta1.external.metrics.k8s.io"},
		{"", "admissionregistration.k8s.io", "validatingwebhookconfigurations", []string{"get", "update"}, "keda-admission"},
		{namespace, "", "secrets", []string{"get"}, ""}, // ClusterTriggerAuthentication secrets
	}
	if secrets {
		out = append(out, need{ns, "", "secrets", []string{"get"}, ""})
	}
	return out
}

// TestRBACSufficient: trimming must not go too far: the operator's ServiceAccount is granted every
// permission the operator uses, and bound to the roles the external metrics server needs.
func TestRBACSufficient(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		watched string
		secrets bool
	}{
		{"all namespaces", nil, "team-a", true},
		{"watch namespace", []string{"--set", "watchNamespace=apps"}, "apps", true},
		{"restricted secrets", []string{"--set", "permissions.operator.restrict.secret=true"}, "team-a", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := parseRBAC(t, renderObjects(t, tc.args...))
			sa := rbacv1.Subject{Kind: "ServiceAccount", Name: "keda-operator", Namespace: namespace}
			for _, n := range operatorNeeds(tc.watched, tc.secrets) {
				for _, v := range n.verbs {
					if !r.allows(sa, n.ns, n.group, n.resource, n.name, v) {
						t.Errorf("the operator may not %s %s.%s in namespace %q", v, n.resource, n.group, n.ns)
					}
				}
			}
			if !tc.secrets && r.allows(sa, tc.watched, "", "secrets", "", "get") {
				t.Errorf("restricted secrets: the operator may still read Secrets in %s", tc.watched)
			}
			if tc.watched == "apps" && r.allows(sa, "elsewhere", "keda.sh", "scaledobjects", "", "list") {
				t.Error("watch namespace: the operator may still list ScaledObjects in other namespaces")
			}
			// The delegated authentication and authorization of the external metrics server.
			if !r.boundCluster(sa, "system:auth-delegator") {
				t.Error("the ServiceAccount is not bound to system:auth-delegator")
			}
			if !r.boundRole(sa, "kube-system", "Role", "extension-apiserver-authentication-reader") {
				t.Error("the ServiceAccount is not bound to kube-system/extension-apiserver-authentication-reader")
			}
			hpa := rbacv1.Subject{Kind: "ServiceAccount", Name: "horizontal-pod-autoscaler", Namespace: "kube-system"}
			if !r.allows(hpa, "team-a", "external.metrics.k8s.io", "s0-redis-jobs", "", "list") {
				t.Error("the HPA controller may not list external metrics")
			}
		})
	}
}

// allows evaluates the chart's own roles for subject (well-known system roles are not rendered, so
// they never count here).
func (r rbacObjects) allows(subject rbacv1.Subject, ns, group, resource, name, verb string) bool {
	for _, b := range r.clusterRoleBindings {
		if cr := r.clusterRoles[b.RoleRef.Name]; cr != nil && hasSubject(b.Subjects, subject) && anyGrants(cr.Rules, group, resource, name, verb) {
			return true
		}
	}
	if ns == "" {
		return false
	}
	for _, b := range r.roleBindings {
		if b.Namespace != ns || !hasSubject(b.Subjects, subject) {
			continue
		}
		var rules []rbacv1.PolicyRule
		switch b.RoleRef.Kind {
		case "Role":
			if role := r.roles[ns+"/"+b.RoleRef.Name]; role != nil {
				rules = role.Rules
			}
		case "ClusterRole":
			if cr := r.clusterRoles[b.RoleRef.Name]; cr != nil {
				rules = cr.Rules
			}
		}
		if anyGrants(rules, group, resource, name, verb) {
			return true
		}
	}
	return false
}

func (r rbacObjects) boundCluster(subject rbacv1.Subject, clusterRole string) bool {
	for _, b := range r.clusterRoleBindings {
		if b.RoleRef.Kind == "ClusterRole" && b.RoleRef.Name == clusterRole && hasSubject(b.Subjects, subject) {
			return true
		}
	}
	return false
}

func (r rbacObjects) boundRole(subject rbacv1.Subject, ns, kind, name string) bool {
	for _, b := range r.roleBindings {
		if b.Namespace == ns && b.RoleRef.Kind == kind && b.RoleRef.Name == name && hasSubject(b.Subjects, subject) {
			return true
		}
	}
	return false
}

// anyGrants: a rule limited to resourceNames grants only those objects (name "" is any object).
func anyGrants(rules []rbacv1.PolicyRule, group, resource, name, verb string) bool {
	for _, rule := range rules {
		named := len(rule.ResourceNames) == 0 || name != "" && slices.Contains(rule.ResourceNames, name)
		if named && grants(rule, group, resource, verb) {
			return true
		}
	}
	return false
}

func hasSubject(subjects []rbacv1.Subject, s rbacv1.Subject) bool {
	for _, x := range subjects {
		if x.Kind == s.Kind && x.Name == s.Name && x.Namespace == s.Namespace {
			return true
		}
	}
	return false
}
