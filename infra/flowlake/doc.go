// Package flowlake holds the CDK constructs of the flowlake stack and the
// stack itself, with the app's configuration and the build of the Lambda
// bootstraps. infra (the app) wires them: ConfigFromContext reads and
// validates the CDK context, BuildFunctions builds the bootstraps, and
// NewDeployment creates what the configuration's mode (flowlake:mode)
// deploys, each stack with cdk-nag's AwsSolutions pack (ApplyNag): the
// Stack (standalone, or the organisation's central lake), a MemberStack
// (a member account's flow logs into the central raw bucket), or the whole
// organisation as CDK Stages, one per account (flowlake:members).
//
// Each construct, in the manner of the CDK's own, takes a props struct,
// builds with secure defaults, and grants what another needs through
// Grant* methods, never hand-written policies:
//
//   - Storage: the raw, lake, Athena-results and access-log buckets
//     (GrantRawRead, GrantLakeWrite, GrantLakeCompact, GrantDeadLetterWrite);
//   - Catalog: the Glue database and table from lake.TableSchema with
//     partition projection, the view flows_ocsf (package ocsf's OCSF
//     mapping, as an Athena view), the Athena workgroup and saved queries
//     (GrantQuery);
//   - Topic: a KMS-encrypted SNS topic with email subscriptions
//     (GrantPublish);
//   - Dedup: the findings' dedup table (GrantUse);
//   - GoFunction: a Go Lambda with its own role and log group;
//   - FlowLogs: the flow logs, with S3 and CloudWatch Logs delivery and the
//     Logs Insights saved queries; GrantMemberDelivery lets member
//     accounts' log delivery write their own prefixes of a central bucket.
//
// NewStack composes them, step by step in the order the data flows, and
// sets each function's environment from the Env* constants of the package
// that reads it (pipeline, notify, detect, schedule, slack, compact).
//
// Imports: the CDK and cdk-nag, and from shared/ only the names, schemas
// and queries the template must agree with (lake, ocsf, queries, flowlog,
// finding and the Env* constants), and enrich/geodb, which builds the GeoIP
// and ASN databases the ingest functions ship (ShipGeoDatabases). Nothing
// but infra imports this package: no function or shared package may, which
// keeps the CDK out of the Lambda binaries.
package flowlake
