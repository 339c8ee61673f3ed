package pipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"

	commonv1 "github.com/pasar-shop/pasar/contracts/go/pasar/common/v1"
	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/callers"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/logging"
)

const method = fulfillmentv1.FulfillmentService_GetFulfillment_FullMethodName

func newPipeline(t *testing.T, out *bytes.Buffer) *Pipeline {
	t.Helper()
	gate := callers.NewGate(map[string]bool{method: true}, []string{"order"}, map[string]string{"order": "secret"}, false)
	p, err := New(gate, logging.New(out, "svc-fulfillment", "info", "json"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func call(p *Pipeline, ctx context.Context, req any, handler grpc.UnaryHandler) error {
	_, err := p.Unary(ctx, req, &grpc.UnaryServerInfo{FullMethod: method}, handler)
	return err
}

func TestThePipeline(t *testing.T) {
	ok := func(context.Context, any) (any, error) { return &fulfillmentv1.GetFulfillmentResponse{}, nil }
	valid := &fulfillmentv1.GetFulfillmentRequest{Id: "ful_00000000000000000000000000000000"}
	asOrder := metadata.NewIncomingContext(context.Background(), metadata.Pairs("x-pasar-caller-token", "secret", "x-request-id", "req-42"))
	cases := []struct {
		name    string
		ctx     context.Context
		req     any
		handler grpc.UnaryHandler
		code    codes.Code
		reason  string
		fields  []string
	}{
		{"allowed", asOrder, valid, ok, codes.OK, "", nil},
		{"no credential", context.Background(), valid, ok, codes.Unauthenticated, commonv1.ErrorReason_CALLER_CREDENTIAL_MISSING.String(), nil},
		{"credentials before validation", context.Background(), &fulfillmentv1.GetFulfillmentRequest{Id: "x"}, ok,
			codes.Unauthenticated, commonv1.ErrorReason_CALLER_CREDENTIAL_MISSING.String(), nil},
		{"invalid", asOrder, &fulfillmentv1.GetFulfillmentRequest{Id: "x"}, ok, codes.InvalidArgument, "", []string{"id"}},
		{"a panic is INTERNAL", asOrder, valid, func(context.Context, any) (any, error) { panic("boom") }, codes.Internal, "", nil},
		{"a cancelled call is CANCELLED", asOrder, valid, func(context.Context, any) (any, error) { return nil, context.Canceled }, codes.Canceled, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			err := call(newPipeline(t, &out), c.ctx, c.req, c.handler)
			st := status.Convert(err)
			if st.Code() != c.code {
				t.Fatalf("code %v, want %v (%v)", st.Code(), c.code, err)
			}
			var reason string
			var fields []string
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					reason = d.GetReason()
				case *errdetails.BadRequest:
					for _, v := range d.GetFieldViolations() {
						fields = append(fields, v.GetField())
					}
				}
			}
			if reason != c.reason || strings.Join(fields, ",") != strings.Join(c.fields, ",") {
				t.Fatalf("reason %q fields %v", reason, fields)
			}
			if !strings.Contains(out.String(), `"message":"rpc"`) {
				t.Fatalf("no rpc log line: %s", out.String())
			}
		})
	}
}

func TestTheLogLineCarriesTheRequestID(t *testing.T) {
	var out bytes.Buffer
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("x-pasar-caller-token", "secret", "x-request-id", "req-42"))
	_ = call(newPipeline(t, &out), ctx, &fulfillmentv1.GetFulfillmentRequest{Id: "ful_00000000000000000000000000000000"},
		func(ctx context.Context, _ any) (any, error) {
			if logging.RequestID(ctx) != "req-42" {
				t.Errorf("the handler's context carries %q", logging.RequestID(ctx))
			}
			return &fulfillmentv1.GetFulfillmentResponse{}, nil
		})
	line := out.String()
	for _, field := range []string{`"request_id":"req-42"`, `"service":"svc-fulfillment"`, `"level":"info"`, `"code":"OK"`, `"method":"` + method + `"`} {
		if !strings.Contains(line, field) {
			t.Errorf("%s not in %s", field, line)
		}
	}
}
