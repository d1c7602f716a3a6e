// Package versitygw tests the code that talks to S3 against versitygw, a
// real S3-compatible server, on loopback, through the real SDK client:
// signatures, conditional writes and multipart uploads as AWS does them.
// It lives under integration/ because it needs a server binary (installed
// into .cache/bin by stack.Tool); the shared packages' own tests need
// none.
package versitygw
