// Package contracts is the Go module of Pasar's gRPC contracts: messages and gRPC client
// and server interfaces generated from contracts/proto with protoc-gen-go and
// protoc-gen-go-grpc. Import the package of the service you need, such as
// github.com/pasar-shop/pasar/contracts/go/pasar/product/v1 (package productv1).
//
// A failed call carries a google.rpc.ErrorInfo whose Reason is the name of a value of
// the package's ErrorReason enum (productv1.ErrorReason_OUT_OF_STOCK.String()). To read
// it, import google.golang.org/genproto/googleapis/rpc/errdetails, without which
// status.Details() cannot decode the detail. The module's version is the repository's tag
// contracts/go/vX.Y.Z; contracts/README.md says how to install it.
package contracts
