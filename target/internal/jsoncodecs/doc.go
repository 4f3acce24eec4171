// Package jsoncodecs measures JSON codecs on the SDK's wire shapes: the
// Delivery request a page sends (encoded), the Delivery responses the
// client decodes (the local edge's answer and the reference data's canned
// responses) and the on-device artifacts of the conformance suite
// (decoded). TestCodecsAgree checks that each codec gives encoding/json's
// values; BenchmarkEncodeRequest and BenchmarkDecode time them. It is a
// module of its own so that the codecs stay out of the SDK's go.mod:
//
//	cd target/internal/jsoncodecs
//	TARGET_REFERENCE_DIR=... TARGET_SDK_TESTING_DIR=... go test -bench . -count 6
//
// # Decision: the SDK stays on encoding/json
//
// Measured on a shared 2-core amd64 VM (go1.26.8, load average over 10),
// six interleaved runs compared with benchstat, time per operation against
// encoding/json (lower is better; all differences p < 0.05 unless "~"):
//
//	shape                          goccy/go-json  bytedance/sonic  segmentio/encoding
//	encode request                 0.51x          ~                ~
//	decode edge response (3 KB)    0.35x          0.50x            ~
//	decode execute response        0.41x          0.57x            ~
//	decode prefetch response       0.41x          0.45x            ~
//	decode artifact AB_SIMPLE      0.50x          0.60x            ~
//	decode artifact MACROS (22 KB) 0.39x          ~                ~
//	decode artifact VIEWS          0.24x          ~                ~
//	allocations, responses         0.74-0.79x     0.80-0.85x       0.78-0.80x
//	allocations, artifacts         0.73-0.81x     0.78-0.82x       0.76-0.81x
//
// (The artifacts decode into artifact.Document, the engine's declaration;
// every codec encodes with HTML escaping, as json.Marshal does. The spread
// between runs on this machine is wide, up to ±100% per figure: read the
// ratios, which benchstat found significant, not the times.)
//
// goccy/go-json alone clears the bar of 1.5x on every shape (about
// 2.2x), sonic on some, segmentio on none. goccy/go-json is still not
// adopted:
//
//   - The gain on a call is bounded. In the CPU profile of the client's
//     remote call (bench.BenchmarkRemoteCall conc=50, pprof) decoding the
//     response is 21% of the process's CPU and encoding the request 6%;
//     net/http's read and write loops, the runtime and GC are most of the
//     rest. 2.2x on 27% would save about 15% of a call, and an artifact is
//     decoded once per poll, not per decision.
//   - It reads and writes Go values through copies of the runtime's type
//     layouts (unsafe, its internal/runtime package) instead of reflect, so
//     a Go release that changes them breaks it, on every platform at once,
//     with no fallback: the "correct on every platform Go supports, with a
//     fallback" condition would rest on its maintainers keeping up.
//   - The wire tests, the conformance suite, the Node differential and the
//     fuzzers were not run with it: the evidence the issue asks for beyond
//     speed is not there, and adopting without it is what the issue rules
//     out.
//
// sonic is a JIT for amd64 and arm64 only (encoding/json elsewhere), it
// compiles a codec per type on first use (over 100 ms for the request's
// types on this machine) and allocates more bytes than encoding/json on
// every decoded shape. segmentio/encoding is not measurably faster here.
//
// Revisit when encoding/json/v2 (GOEXPERIMENT=jsonv2) is the default: it
// is the standard library's own answer to the same costs.
package jsoncodecs
