// Package stack runs the real pieces of the flowlake stack on loopback for
// tests: versitygw as S3 and the Lambda Runtime Interface Emulator running
// the real bootstrap binaries. Tools are pinned and installed with go
// install into the repository's .cache/bin (gitignored) when missing, and
// binaries are built with the deploy flags. Anything that cannot be built
// or started fails the test: these tests never skip.
package stack
