// Package golden is test support for golden files: Check compares output
// with testdata/<name>, and rewrites the file when the test runs with
// -update, so every package's tests refresh their golden files the same
// way (go test ./... -run X -update).
//
// It imports only the standard library, and only tests import it.
package golden
