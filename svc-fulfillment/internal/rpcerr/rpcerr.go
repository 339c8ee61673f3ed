// Package rpcerr is the one way the service fails a call: a google.rpc.Status whose
// ErrorInfo (domain pasar.shop) carries a reason from the contracts' ErrorReason enums and
// the metadata the enum's comment names, and, for invalid arguments, a BadRequest with
// one violation per field. Handlers return *Error; the pipeline turns it into the status.
package rpcerr

import (
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

// Domain is ErrorInfo.domain for every Pasar service.
const Domain = "pasar.shop"

// Reason is a value of a contract's ErrorReason enum; its String() is the name sent on
// the wire, so no reason is ever spelled by hand.
type Reason interface{ String() string }

// Violation is one BadRequest field violation.
type Violation struct{ Field, Description string }

// Error is a failure the caller can act on.
type Error struct {
	Code       codes.Code
	Message    string
	Reason     string
	Metadata   map[string]string
	Violations []Violation
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Reason) }

// New is an error with code, reason and message; metadata are key, value pairs.
func New(code codes.Code, reason Reason, message string, metadata ...string) *Error {
	e := &Error{Code: code, Message: message, Metadata: map[string]string{}}
	if reason != nil {
		e.Reason = reason.String()
	}
	for i := 0; i+1 < len(metadata); i += 2 {
		e.Metadata[metadata[i]] = metadata[i+1]
	}
	return e
}

// WithViolations adds BadRequest field violations.
func (e *Error) WithViolations(violations ...Violation) *Error {
	e.Violations = append(e.Violations, violations...)
	return e
}

// Status is the gRPC status with its details.
func (e *Error) Status() *status.Status {
	st := status.New(e.Code, e.Message)
	var details []protoadapt.MessageV1
	if e.Reason != "" {
		details = append(details, &errdetails.ErrorInfo{Reason: e.Reason, Domain: Domain, Metadata: e.Metadata})
	}
	if len(e.Violations) > 0 {
		bad := &errdetails.BadRequest{}
		for _, v := range e.Violations {
			bad.FieldViolations = append(bad.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		details = append(details, bad)
	}
	if len(details) == 0 {
		return st
	}
	withDetails, err := st.WithDetails(details...)
	if err != nil {
		return st
	}
	return withDetails
}

// GRPCStatus lets status.FromError and grpc-go see the status with its details.
func (e *Error) GRPCStatus() *status.Status { return e.Status() }

// As is err as an *Error, when it is one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
