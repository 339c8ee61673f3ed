package contracts_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	commonv1 "github.com/pasar-shop/pasar/contracts/go/pasar/common/v1"
	_ "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	orderv1 "github.com/pasar-shop/pasar/contracts/go/pasar/order/v1"
	_ "github.com/pasar-shop/pasar/contracts/go/pasar/payment/v1"
	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"
)

const testdata = "../testdata"

// A Go team builds a client from the generated code; nothing is dialled until a call.
func TestBuildsAClient(t *testing.T) {
	conn, err := grpc.NewClient("127.0.0.1:50051", grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	defer conn.Close()
	var client productv1.ProductServiceClient = productv1.NewProductServiceClient(conn)
	if client == nil {
		t.Fatal("NewProductServiceClient returned nil")
	}
}

func TestSerialisesAndParsesAMessage(t *testing.T) {
	request := &orderv1.CreateOrderRequest{
		RequestId:          "3f1c2a9e",
		CustomerEmail:      "siti@example.co.id",
		Lines:              []*orderv1.CreateOrderLine{{PackageId: "pulsa-nusantara-10k", Quantity: 2}},
		PaymentChannelCode: "qris",
	}
	data, err := proto.Marshal(request)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	parsed := &orderv1.CreateOrderRequest{}
	if err := proto.Unmarshal(data, parsed); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if !proto.Equal(request, parsed) {
		t.Fatalf("round trip changed the message: %v != %v", request, parsed)
	}
	price := &commonv1.Money{CurrencyCode: "IDR", Amount: 15000}
	if got := protojson.Format(price); !strings.Contains(got, `"15000"`) {
		t.Fatalf("int64 amount must be a JSON string, got %s", got)
	}
}

// The shared fixture decodes to the same JSON as in Python and TypeScript.
func TestSharedFixtureDecodesIdentically(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdata, "create_order_response.binpb"))
	if err != nil {
		t.Fatal(err)
	}
	decoded := &orderv1.CreateOrderResponse{}
	if err := proto.Unmarshal(data, decoded); err != nil {
		t.Fatalf("Unmarshal fixture: %v", err)
	}
	if decoded.GetPayment().GetQris().GetQrString() == "" {
		t.Fatal("the fixture's payment must carry QRIS instructions")
	}
	got := jsonValue(t, []byte(protojson.Format(decoded)))
	want := jsonValue(t, mustRead(t, filepath.Join(testdata, "create_order_response.json")))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded JSON differs from the fixture:\n got %v\nwant %v", got, want)
	}
	// Encodings may order fields differently across runtimes (Go writes oneof members
	// last), so the re-encoded bytes are compared by what they decode to.
	again, err := proto.Marshal(decoded)
	if err != nil {
		t.Fatal(err)
	}
	reparsed := &orderv1.CreateOrderResponse{}
	if err := proto.Unmarshal(again, reparsed); err != nil || !proto.Equal(decoded, reparsed) {
		t.Fatalf("re-encoding the fixture changed it: %v", err)
	}
}

type validationCases struct {
	Cases []struct {
		Name       string          `json:"name"`
		Message    string          `json:"message"`
		JSON       json.RawMessage `json:"json"`
		Violations [][2]string     `json:"violations"`
	} `json:"cases"`
}

// protovalidate-go reports the same violations as protovalidate in Python.
func TestValidationRulesMatchTheSharedCases(t *testing.T) {
	var cases validationCases
	if err := json.Unmarshal(mustRead(t, filepath.Join(testdata, "validation_cases.json")), &cases); err != nil {
		t.Fatal(err)
	}
	validator, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases.Cases {
		t.Run(c.Name, func(t *testing.T) {
			messageType, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(c.Message))
			if err != nil {
				t.Fatal(err)
			}
			message := messageType.New().Interface()
			if err := protojson.Unmarshal(c.JSON, message); err != nil {
				t.Fatal(err)
			}
			got := []string{}
			if err := validator.Validate(message); err != nil {
				validationError, ok := err.(*protovalidate.ValidationError)
				if !ok {
					t.Fatalf("unexpected error: %v", err)
				}
				for _, violation := range validationError.Violations {
					got = append(got, fmt.Sprintf("%s %s", fieldPath(violation), violation.Proto.GetRuleId()))
				}
			}
			want := []string{}
			for _, v := range c.Violations {
				want = append(want, fmt.Sprintf("%s %s", v[0], v[1]))
			}
			sort.Strings(got)
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("violations differ:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// fieldPath writes a violation's field as the shared cases do: lines[0].quantity, a map
// value's key unquoted (lines[0].destination[phone_number]).
func fieldPath(violation *protovalidate.Violation) string {
	var path strings.Builder
	for i, element := range violation.Proto.GetField().GetElements() {
		if i > 0 {
			path.WriteString(".")
		}
		path.WriteString(element.GetFieldName())
		switch subscript := element.GetSubscript().(type) {
		case *validate.FieldPathElement_Index:
			fmt.Fprintf(&path, "[%d]", subscript.Index)
		case *validate.FieldPathElement_StringKey:
			fmt.Fprintf(&path, "[%s]", subscript.StringKey)
		case *validate.FieldPathElement_IntKey:
			fmt.Fprintf(&path, "[%d]", subscript.IntKey)
		case *validate.FieldPathElement_UintKey:
			fmt.Fprintf(&path, "[%d]", subscript.UintKey)
		case *validate.FieldPathElement_BoolKey:
			fmt.Fprintf(&path, "[%t]", subscript.BoolKey)
		}
	}
	return path.String()
}

func jsonValue(t *testing.T, data []byte) any {
	t.Helper()
	var value any
	if err := json.Unmarshal(data, &value); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	return value
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
