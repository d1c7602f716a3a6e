// Package standin holds the stand-ins the end-to-end suite serves where no
// local server of the real service exists. They are stand-ins, never the
// services: they speak the same API calls over HTTP, so the functions
// under test use their real AWS SDK clients, but what they compute is
// only as faithful as what they run.
//
// Athena: StartAthena serves StartQueryExecution, GetQueryExecution and
// GetQueryResults (paged, header row first, as Athena returns a SELECT)
// of the Athena JSON protocol. It runs the SQL it receives, unchanged, in
// DuckDB over the lake bucket's objects (versitygw keeps each object as a
// file), with the lake as the table flows. Trino functions that DuckDB
// lacks are defined as DuckDB macros, each listed in DialectGaps with why.
// It reports every query as scanning the whole lake
// (Statistics.DataScannedInBytes: it prunes nothing, so Athena's figure is
// a fraction of it).
// What it does not model: Trino's reading of Parquet page indexes (tested
// separately, in shared/lake, against an independent Parquet reader),
// partition projection beyond the injected-key constraint, query
// queuing, cost limits and result files in S3.
//
// SQS: StartSQS serves the calls of flowlake redrive and of the fault
// suite's event source mapping (CreateQueue, GetQueueUrl,
// GetQueueAttributes, SendMessage, ReceiveMessage, DeleteMessage,
// ChangeMessageVisibility, StartMessageMoveTask, ListMessageMoveTasks) of
// the SQS JSON protocol, which the current SDK's client speaks and goaws
// does not (goaws's SQS speaks only the old XML protocol). It keeps the
// visibility timeout, the redrive policy's move to the dead-letter queue
// after maxReceiveCount receives, and move tasks from a dead-letter queue
// back to the queues its messages came from (or to a destination), with
// SQS's refusal of a source that is no queue's dead-letter queue. What it
// does not model: long polling, FIFO queues, move-task rates (a task is
// done when it starts), persistence.
//
// It may import DuckDB (through shared/lakesql and shared/detect/duck);
// it is test infrastructure and must never be imported by functions/ or
// shared/.
package standin
