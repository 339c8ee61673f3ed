// The Go code generators used by `scripts/contracts`, pinned here so that every machine
// generates the same code. Installed by `scripts/bootstrap` with `go install tool`.
// golang.org/x/mod is what gomodproxy/ (run by `scripts/contracts package`) writes the Go
// module's proxy folder with: the zip code the go command itself checks zips with.
module github.com/pasar-shop/pasar/contracts/tools

go 1.26.0

tool (
	google.golang.org/grpc/cmd/protoc-gen-go-grpc
	google.golang.org/protobuf/cmd/protoc-gen-go
)

require golang.org/x/mod v0.43.0

require (
	google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.6.2 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
