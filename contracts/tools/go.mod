// The Go code generators used by `scripts/contracts`, pinned here so that every machine
// generates the same code. Installed by `scripts/bootstrap` with `go install tool`.
module github.com/pasar-shop/pasar/contracts/tools

go 1.25.0

tool (
	google.golang.org/grpc/cmd/protoc-gen-go-grpc
	google.golang.org/protobuf/cmd/protoc-gen-go
)

require (
	google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.6.2 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
