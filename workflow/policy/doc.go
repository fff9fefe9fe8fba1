// How the policy engine is used (the package comment itself is in rule.go).
//
// The caller builds a Policy from the stored catalog (NewCatalog, or
// DefaultCatalog seeded from the embedded catalog.yaml), matrix
// (DefaultMatrix, or one read back from JSON/YAML) and Settings. It turns
// request rules into ProposedRules — by hand, or with ParseRuleFile and
// Inventory.Resolve, which resolve zone names and addresses to
// classifications — builds an ActiveIndex from the approved, active rules,
// and calls Policy.Evaluate. Findings say what is wrong and what to do;
// HasBlocking decides `policy check`'s exit status and NeedsSecondApproval
// the number of approvals. WhatIf shows which active rules a policy edit
// would turn into violations before it is saved.
//
// Everything here is pure: no database, no network, no clock other than the
// "now" passed in, and the same input always yields the same findings in the
// same order.

package policy
