// Package detect turns flows into findings (package finding). It holds the
// rule registry, Rules, and two engines that evaluate the same rules:
//
//   - the batch engine (Batch), which the ingest pipeline feeds each batch
//     of records with their enrichment, in Go, cheaply;
//   - the lake engine (Lake), which runs each rule as SQL over the lake's
//     partitions on a schedule: in Athena from functions/detect, in DuckDB
//     from `flowlake detect` (package detect/duck).
//
// A rule is a value: an ID (part of the contract), a title, MITRE tags, a
// filter made of conditions (Cond) that each have a Go and an SQL form,
// the dimensions it groups by (Entity), a measure compared with a
// threshold in a time window, a severity function that looks at whether
// our side is the actor or the target, and its own should-fire and
// should-not-fire cases, which TestRuleCases runs on both engines. Every
// threshold is a Settings field that Config overrides per rule.
//
// Our side versus the internet: an address is internal when it is private,
// CGNAT, loopback, link-local, multicast or unspecified, or inside
// Config.InternalPrefixes (a VPC's IPv6 block); anything else is external.
// No rule depends on traffic to 169.254.169.254, the VPC resolver or DHCP,
// which flow logs never record.
//
// Windows are aligned to the Unix epoch and divide an hour, so each window
// lies in one hour partition of the lake and a finding's Athena query
// prunes to it; a finding's ID hashes rule, account, entity and window, so
// both engines give the same problem the same ID.
//
// A rule may also match reference data (Rule.Join): threat-list-match looks
// a flow's peer up in Config.ThreatLists in the batch engine and joins the
// lake's threat_lists table in the lake engine.
//
// It may import shared/flowlog, shared/enrich, shared/finding and
// shared/threatlist; it must not
// import the lake's writers, the pipeline, the publishers or the scheduler: it
// reads the lake only through the SQL it writes (run by its engines,
// detect/duck and detect/athena) and the records the batch engine is shown.
package detect
