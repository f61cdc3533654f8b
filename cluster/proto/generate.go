// Package fukapb is the generated code of fuka.proto, the controller–worker
// protocol. The generated files are checked in; regenerate them with
// `go generate ./cluster/proto` (needs protoc, protoc-gen-go v1.36.12 and
// protoc-gen-go-grpc v1.6.2 on PATH; see README.md).
package fukapb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative fuka.proto
