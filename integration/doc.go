// Package integration tests the ingest functions end to end, as they run
// in AWS: the real bootstrap binaries (linux/amd64, CGO_ENABLED=0, -tags
// lambda.norpc) under the Lambda Runtime Interface Emulator, versitygw as
// S3 on loopback, and the lake read back with DuckDB from the bucket's
// folder. Everything is built or installed automatically (package stack);
// nothing is skipped when a tool is missing: the test fails.
//
// TestPeakRSS75MB (not in -short) streams a 75 MB gzip object through the
// ingest-s3 bootstrap, configured as a 256 MB Lambda, and checks the
// bootstrap's peak RSS (VmHWM) stays within 256 MiB. Run it alone with
//
//	go test ./integration -run PeakRSS -v
package integration
