//go:build (386 || amd64 || arm64 || loong64 || ppc64le || wasm) && !purego

package flowlog

// unalignedLE says that loadWord may load a word at any address with one
// unchecked load: the CPU is little-endian and loads unaligned words at full
// speed.
//
// These are the little-endian targets for which Go's compiler itself merges
// byte loads into unaligned word loads (unalignedOK in
// cmd/compile/internal/ssa/config.go): 386, amd64, arm64, loong64, ppc64le
// and wasm. Every other target builds loadword_portable.go:
//   - ppc64 and s390x load unaligned words too, but big-endian: there
//     binary.LittleEndian.Uint64 is already one byte-reversed load, and only
//     its bounds check is left.
//   - arm (GOARM 5 to 7): ARMv5 faults or rotates on an unaligned word, and
//     ARMv6/v7 allow it only for single 32-bit loads, not the paired loads of
//     a uint64; Go's compiler treats arm as strict.
//   - mips, mipsle, mips64 and mips64le trap on an unaligned load (the kernel
//     may emulate it, a thousand times slower, or send SIGBUS).
//   - riscv64 may take misaligned loads in hardware or trap and emulate
//     them, depending on the core; Go's compiler treats it as strict.
//   - any other target (sparc64 and m68k have no gc port) is strict until
//     shown otherwise.
//
// The purego tag forces the portable file on any CPU, to test it.
const unalignedLE = true
