// Package driftrules compares what scans saw on the wire with the approved rules
// and says where they disagree: a port open without approval, an approved
// port found closed, another service than the approved one, a port still
// open after its approval lapsed, a weak configuration on an approved port,
// and hosts that answer every port.
//
// The package is pure: it takes plain values (Observation, Rule) and the
// port catalog, and knows nothing of the database, the scanner or HTTP. The
// same input always gives the same items in the same order.
//
// How the server uses it, after each scan:
//
//  1. Turn the scan report into one Observation per scanned host (zone and
//     classification from the inventory, Scanned from the scan's profile),
//     and the rules of requests into Rules (in force and lapsed alike, one
//     Rule per destination).
//  2. items := Compare(observations, rules, catalog, now).
//  3. newItems, stillOpen, resolved := Reconcile(tracked, items,
//     Coverage(observations), now), where tracked are the stored items of
//     the scanned hosts. Insert newItems as open, refresh the last-seen time
//     of the stillOpen records whose key is among items, mark resolved
//     resolved.
//  4. "Turn into a request" on an item whose Kind is Requestable:
//     RequestFrom(item) gives what the new request starts with.
//
// Kinds, severities and the lifecycle rules are described on Compare,
// Severity and Reconcile.
package driftrules
