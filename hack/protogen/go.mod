// The proto code generators, pinned: hack/tools.sh protogen builds protogen (protocompile + a
// protoc-style plugin runner), protoc-gen-go and protoc-gen-go-grpc from this module into the
// tool cache. protoc-gen-go is kept at the google.golang.org/protobuf version of the main module,
// so generated code and runtime agree.
module github.com/kedactl/kedactl/hack/protogen

go 1.26.0

tool (
	google.golang.org/grpc/cmd/protoc-gen-go-grpc
	google.golang.org/protobuf/cmd/protoc-gen-go
)

require (
	github.com/bufbuild/protocompile v0.14.1
	google.golang.org/protobuf v1.36.12-0.20260120151049-f2248ac996af
)

require (
	golang.org/x/sync v0.8.0 // indirect
	google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.6.2 // indirect
)
