// Package emf writes CloudWatch Embedded Metric Format lines: one JSON
// object per line, which CloudWatch Logs turns into metrics with no API
// call. In a Lambda function the writer is stdout.
//
// The metric names and dimensions are constants of the package that emits
// them (pipeline, notify, schedule); the CDK app's dashboard and alarms
// read those same constants, so no metric name is written twice. This
// package holds only the encoding and the shared names: the namespace and
// the dimension names.
//
// It imports only the standard library and aws-lambda-go's lambdacontext
// (for the request id); every flowlake package may import it.
package emf
