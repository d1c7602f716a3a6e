//go:build !((386 || amd64 || arm64 || loong64 || ppc64le || wasm) && !purego)

package flowlog

// unalignedLE is false: loadWord reads words with binary.LittleEndian,
// bounds-checked, which is correct on any CPU, big-endian or needing
// aligned loads. See loadword_fast.go for the targets that do not build
// this file.
const unalignedLE = false
