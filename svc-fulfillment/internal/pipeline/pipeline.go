// Package pipeline is what happens around every call of the service's contract methods,
// in the order pasar_kit.pipeline has for the Python services: the request id (from
// x-request-id, or a new one) joins the context, every log line and the server span; an internal method
// is refused unless the caller is accepted; the request is checked against the contract's
// protovalidate rules (INVALID_ARGUMENT with one BadRequest violation per broken rule,
// with the Python services' field paths); the handler runs; its error becomes a status
// with ErrorInfo (a database outage UNAVAILABLE DATABASE_UNAVAILABLE, a deadlock ABORTED
// CONTENTION, anything unexpected INTERNAL without internals); one log line per call.
package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	commonv1 "github.com/pasar-shop/pasar/contracts/go/pasar/common/v1"
	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/callers"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/database"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/logging"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/rpcerr"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/telemetry"
)

// contractPrefix marks the contracts' methods; health and reflection pass untouched.
const contractPrefix = "/pasar."

// Pipeline holds what the interceptors need.
type Pipeline struct {
	validator protovalidate.Validator
	gate      *callers.Gate
	log       *slog.Logger
}

// New is the pipeline refusing internal calls through gate.
func New(gate *callers.Gate, log *slog.Logger) (*Pipeline, error) {
	validator, err := protovalidate.New()
	if err != nil {
		return nil, err
	}
	return &Pipeline{validator: validator, gate: gate, log: log}, nil
}

// Unary is the interceptor of unary calls.
func (p *Pipeline) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if !strings.HasPrefix(info.FullMethod, contractPrefix) {
		return handler(ctx, req)
	}
	ctx = withRequestID(ctx)
	started := time.Now()
	response, err := func() (response any, err error) {
		defer p.recoverPanic(ctx, &err)
		if err := p.before(ctx, info.FullMethod, req); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}()
	err = p.statusOf(ctx, err)
	p.logCall(ctx, info.FullMethod, err, started)
	return response, err
}

// Stream is the interceptor of streaming calls.
func (p *Pipeline) Stream(srv any, stream grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if !strings.HasPrefix(info.FullMethod, contractPrefix) {
		return handler(srv, stream)
	}
	ctx := withRequestID(stream.Context())
	started := time.Now()
	wrapped := &checkedStream{ServerStream: stream, ctx: ctx, pipeline: p, method: info.FullMethod}
	err := func() (err error) {
		defer p.recoverPanic(ctx, &err)
		if err := p.gate.Check(ctx, info.FullMethod); err != nil {
			return err
		}
		return handler(srv, wrapped)
	}()
	err = p.statusOf(ctx, err)
	p.logCall(ctx, info.FullMethod, err, started)
	return err
}

// checkedStream validates the request message as the handler receives it.
type checkedStream struct {
	grpc.ServerStream
	ctx      context.Context
	pipeline *Pipeline
	method   string
}

func (s *checkedStream) Context() context.Context { return s.ctx }

func (s *checkedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.pipeline.validate(m)
}

// recoverPanic turns a handler's panic into INTERNAL, logged with its stack: one bad call
// must not end the process and every call in flight with it.
func (p *Pipeline) recoverPanic(ctx context.Context, err *error) {
	if recovered := recover(); recovered != nil {
		p.log.ErrorContext(ctx, "unhandled error", "panic", fmt.Sprint(recovered), "exception", string(debug.Stack()))
		*err = status.Error(codes.Internal, "internal error")
	}
}

func (p *Pipeline) before(ctx context.Context, method string, req any) error {
	if err := p.gate.Check(ctx, method); err != nil {
		return err
	}
	return p.validate(req)
}

func withRequestID(ctx context.Context) context.Context {
	id := ""
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if values := md.Get(logging.RequestIDMetadata); len(values) > 0 && len(values[0]) <= 128 {
			id = values[0]
		}
	}
	if id == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	// The server span (the OpenTelemetry handler's, outermost) carries it: one search finds
	// a shopper's request in the traces as in the logs.
	telemetry.Annotate(ctx, attribute.String(telemetry.RequestIDAttribute, id))
	return logging.WithRequestID(ctx, id)
}

// validate is INVALID_ARGUMENT naming every field that breaks the contract's rules.
func (p *Pipeline) validate(req any) error {
	message, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	err := p.validator.Validate(message)
	var invalid *protovalidate.ValidationError
	if !errors.As(err, &invalid) {
		return err
	}
	name := string(message.ProtoReflect().Descriptor().Name())
	violations := make([]rpcerr.Violation, 0, len(invalid.Violations))
	summary := make([]string, 0, len(invalid.Violations))
	for _, v := range invalid.Violations {
		field := FieldPath(v)
		if field == "" {
			field = name
		}
		violations = append(violations, rpcerr.Violation{Field: field, Description: v.Proto.GetMessage()})
		summary = append(summary, field+": "+v.Proto.GetMessage())
	}
	return rpcerr.New(codes.InvalidArgument, nil, "invalid "+name+": "+strings.Join(summary, "; ")).WithViolations(violations...)
}

// FieldPath is the violation's field as the Python services write it: lines[0].quantity,
// destination[phone_number]; empty for a rule on the whole message.
func FieldPath(v *protovalidate.Violation) string {
	var b strings.Builder
	for _, element := range v.Proto.GetField().GetElements() {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(element.GetFieldName())
		switch subscript := element.GetSubscript().(type) {
		case *validate.FieldPathElement_Index:
			fmt.Fprintf(&b, "[%d]", subscript.Index)
		case *validate.FieldPathElement_StringKey:
			fmt.Fprintf(&b, "[%s]", subscript.StringKey)
		case *validate.FieldPathElement_IntKey:
			fmt.Fprintf(&b, "[%d]", subscript.IntKey)
		case *validate.FieldPathElement_UintKey:
			fmt.Fprintf(&b, "[%d]", subscript.UintKey)
		case *validate.FieldPathElement_BoolKey:
			if subscript.BoolKey {
				b.WriteString("[True]") // Python writes its bools so
			} else {
				b.WriteString("[False]")
			}
		}
	}
	return b.String()
}

// statusOf is err as the status the caller gets.
func (p *Pipeline) statusOf(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := rpcerr.As(err); ok {
		return e.Status().Err()
	}
	if _, ok := status.FromError(err); ok {
		return err // a status already (a peer's NOT_FOUND passed through, a canceled stream)
	}
	if errors.Is(err, context.Canceled) {
		return status.Error(codes.Canceled, "the call was canceled")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return status.Error(codes.DeadlineExceeded, "the call's deadline passed")
	}
	switch database.Classify(err) {
	case database.Unavailable:
		p.log.ErrorContext(ctx, "database unavailable", "error", err.Error())
		return rpcerr.New(codes.Unavailable, commonv1.ErrorReason_DATABASE_UNAVAILABLE,
			"the service's database is unavailable").Status().Err()
	case database.Contention:
		p.log.WarnContext(ctx, "transaction aborted by the database", "error", err.Error())
		return rpcerr.New(codes.Aborted, commonv1.ErrorReason_CONTENTION,
			"the request conflicted with another one; retry it").Status().Err()
	}
	p.log.ErrorContext(ctx, "unhandled error", "error", err.Error())
	return status.Error(codes.Internal, "internal error")
}

func (p *Pipeline) logCall(ctx context.Context, method string, err error, started time.Time) {
	p.log.InfoContext(ctx, "rpc", "method", method, "code", codeName(status.Code(err)), "duration_ms", logging.Since(started))
}

// codeName is the code as Python's grpc.StatusCode names it (INVALID_ARGUMENT, not InvalidArgument).
func codeName(code codes.Code) string {
	names := map[codes.Code]string{
		codes.OK: "OK", codes.Canceled: "CANCELLED", codes.Unknown: "UNKNOWN", codes.InvalidArgument: "INVALID_ARGUMENT",
		codes.DeadlineExceeded: "DEADLINE_EXCEEDED", codes.NotFound: "NOT_FOUND", codes.AlreadyExists: "ALREADY_EXISTS",
		codes.PermissionDenied: "PERMISSION_DENIED", codes.ResourceExhausted: "RESOURCE_EXHAUSTED",
		codes.FailedPrecondition: "FAILED_PRECONDITION", codes.Aborted: "ABORTED", codes.OutOfRange: "OUT_OF_RANGE",
		codes.Unimplemented: "UNIMPLEMENTED", codes.Internal: "INTERNAL", codes.Unavailable: "UNAVAILABLE",
		codes.DataLoss: "DATA_LOSS", codes.Unauthenticated: "UNAUTHENTICATED",
	}
	return names[code]
}
