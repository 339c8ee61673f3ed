// Package contracts is the Go module of Pasar's gRPC contracts: messages and gRPC client
// and server interfaces generated from contracts/proto with protoc-gen-go and
// protoc-gen-go-grpc. Import the package of the service you need, such as
// github.com/pasar-shop/pasar/contracts/go/pasar/product/v1 (package productv1).
package contracts
