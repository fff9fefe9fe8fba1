package core

import (
	"fmt"
	"slices"
	"strings"
)

// Role is what a person may do in Portcullis.
type Role string

const (
	RoleRequester   Role = "requester"   // business team: files and follows requests
	RoleReviewer    Role = "reviewer"    // security: reviews and approves
	RoleApprover    Role = "approver"    // security lead: second approval
	RoleImplementer Role = "implementer" // network operations
	RoleAuditor     Role = "auditor"     // reads everything, exports
	RoleAdmin       Role = "admin"       // inventory, settings, users
)

// AllRoles in the order they are shown.
var AllRoles = []Role{RoleRequester, RoleReviewer, RoleApprover, RoleImplementer, RoleAuditor, RoleAdmin}

// ParseRole reads a role name.
func ParseRole(s string) (Role, bool) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	return r, slices.Contains(AllRoles, r)
}

// Actor is the person a Service call acts for.
type Actor struct {
	ID    uint
	Email string
	Name  string
	Team  string
	Roles []Role
	// Language and TimeZone are the person's choices for the pages they
	// read (empty: not chosen); the domain never formats with them.
	Language, TimeZone string
}

// Has reports whether the actor holds any of the roles.
func (a Actor) Has(roles ...Role) bool {
	for _, r := range roles {
		if slices.Contains(a.Roles, r) {
			return true
		}
	}
	return false
}

// SeesAllRequests is true for the roles whose work spans every team.
func (a Actor) SeesAllRequests() bool {
	return a.Has(RoleReviewer, RoleApprover, RoleImplementer, RoleAuditor, RoleAdmin)
}

func JoinRoles(roles []Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, " ")
}

// SplitRoles reads the roles stored on a user row.
func SplitRoles(s string) []Role {
	var out []Role
	for _, f := range strings.Fields(s) {
		if r, ok := ParseRole(f); ok {
			out = append(out, r)
		}
	}
	return out
}

// RolesPhrase words a list of roles for a refusal: "reviewer, approver or admin".
func RolesPhrase(roles []Role) string {
	s := ""
	for i, r := range roles {
		switch {
		case i == 0:
		case i == len(roles)-1:
			s += " or "
		default:
			s += ", "
		}
		s += string(r)
	}
	return s
}

// RolesSaid is RolesPhrase for people in any language: each role under
// its term role.NAME, joined by err.core.roles.N (N roles, up to 4; more
// are said as RolesPhrase has them).
func RolesSaid(roles []Role) Message {
	if len(roles) == 0 || len(roles) > 4 {
		return Plain(RolesPhrase(roles))
	}
	english := []string{"", "{{.R1}}", "{{.R1}} or {{.R2}}", "{{.R1}}, {{.R2}} or {{.R3}}", "{{.R1}}, {{.R2}}, {{.R3}} or {{.R4}}"}[len(roles)]
	kv := make([]any, 0, 2*len(roles))
	for i, r := range roles {
		kv = append(kv, fmt.Sprintf("R%d", i+1), M("role."+string(r), string(r)))
	}
	return M(fmt.Sprintf("err.core.roles.n%d", len(roles)), english, kv...)
}
