// Command infra is the flowlake CDK app: `npx cdk synth` / `npx cdk deploy`
// at the repository root run it (cdk.json: go run ./infra).
//
// Configuration is the CDK context alone (cdk.json, or -c key=value), read
// and validated by flowlake.ConfigFromContext: every key is "flowlake:…",
// and a bad value fails the synth with a message naming the key. The app
// builds the Lambda bootstraps itself (flowlake.BuildFunctions: one go
// build for linux/arm64 into a temporary folder, deployed with
// awslambda.Code_FromAsset), creates one flowlake.Stack from the
// constructs of package flowlake (Storage, Catalog, Topic, Dedup,
// GoFunction, FlowLogs), and applies the cdk-nag AwsSolutions pack to
// every synth, so a new unsuppressed finding fails `cdk synth`; each
// suppression carries its reason in code.
package main
