package sandbox

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	commonv1 "github.com/pasar-shop/pasar/contracts/go/pasar/common/v1"
	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/biller"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/store"
)

func TestPlanFor(t *testing.T) {
	cases := []struct {
		destination map[string]string
		succeeded   bool
		reason      fulfillmentv1.FailureReason
		late        bool
	}{
		{map[string]string{"meter_number": "14123450000"}, false, fulfillmentv1.FailureReason_FAILURE_REASON_DESTINATION_NOT_FOUND, false},
		{map[string]string{"phone_number": "081234560001"}, false, fulfillmentv1.FailureReason_FAILURE_REASON_DESTINATION_REFUSED, false},
		{map[string]string{"phone_number": "081234560002"}, false, fulfillmentv1.FailureReason_FAILURE_REASON_PRODUCT_UNAVAILABLE, false},
		{map[string]string{"meter_number": "14123450009"}, true, 0, true},
		{map[string]string{"meter_number": "14123456789"}, true, 0, false},
		// The first rule that matches any value wins: 0000 before 0009, whichever field.
		{map[string]string{"user_id": "10009", "zone_id": "0000"}, false, fulfillmentv1.FailureReason_FAILURE_REASON_DESTINATION_NOT_FOUND, false},
		{map[string]string{"user_id": "10002", "zone_id": "0001"}, false, fulfillmentv1.FailureReason_FAILURE_REASON_DESTINATION_REFUSED, false},
	}
	for _, c := range cases {
		plan := PlanFor(c.destination)
		if plan.Succeeded != c.succeeded || plan.Late != c.late || plan.Failure.GetReason() != c.reason {
			t.Errorf("%v: got %+v", c.destination, plan)
		}
	}
}

func fulfillment(kind productv1.DeliveryKind, quantity int32, amount int64) *fulfillmentv1.Fulfillment {
	return &fulfillmentv1.Fulfillment{Id: "ful_0123456789abcdef0123456789abcdef", DeliveryKind: kind, Quantity: quantity,
		Amount: &commonv1.Money{CurrencyCode: "IDR", Amount: amount}, Destination: map[string]string{"meter_number": "14123456789"}}
}

var (
	serialNumber = regexp.MustCompile(`^[1-9][0-9]{15,19}$`)
	token        = regexp.MustCompile(`^[0-9]{4}(-[0-9]{4}){4}$`)
	voucherCode  = regexp.MustCompile(`^[` + unambiguous + `]{4}(-[` + unambiguous + `]{4}){3}$`)
)

func TestDeliveries(t *testing.T) {
	cases := []struct {
		kind                   productv1.DeliveryKind
		quantity               int32
		amount                 int64
		wantToken, wantVoucher bool
		wantKWh                string
	}{
		{productv1.DeliveryKind_DELIVERY_KIND_PHONE_CREDIT, 1, 10000, false, false, ""},
		{productv1.DeliveryKind_DELIVERY_KIND_DATA_PLAN, 2, 50000, false, false, ""},
		{productv1.DeliveryKind_DELIVERY_KIND_ACCOUNT_TOPUP, 1, 20000, false, false, ""},
		{productv1.DeliveryKind_DELIVERY_KIND_ELECTRICITY_TOKEN, 1, 20000, true, false, "13.84"},
		{productv1.DeliveryKind_DELIVERY_KIND_ELECTRICITY_TOKEN, 3, 150000, true, false, "34.61"},
		{productv1.DeliveryKind_DELIVERY_KIND_VOUCHER_CODE, 4, 40000, false, true, ""},
	}
	for _, c := range cases {
		t.Run(c.kind.String(), func(t *testing.T) {
			f := fulfillment(c.kind, c.quantity, c.amount)
			deliveries := Deliveries(f)
			if len(deliveries) != int(c.quantity) {
				t.Fatalf("got %d deliveries for %d units", len(deliveries), c.quantity)
			}
			seen := map[string]bool{}
			for _, d := range deliveries {
				if !serialNumber.MatchString(d.GetSerialNumber()) {
					t.Errorf("serial number %q", d.GetSerialNumber())
				}
				if seen[d.GetSerialNumber()] {
					t.Errorf("units share serial number %q", d.GetSerialNumber())
				}
				seen[d.GetSerialNumber()] = true
				if c.wantToken != token.MatchString(d.GetToken()) || d.GetKwh() != c.wantKWh {
					t.Errorf("token %q, kwh %q", d.GetToken(), d.GetKwh())
				}
				if c.wantVoucher != voucherCode.MatchString(d.GetVoucherCode()) {
					t.Errorf("voucher code %q", d.GetVoucherCode())
				}
			}
			again := Deliveries(f)
			for i := range deliveries {
				if deliveries[i].String() != again[i].String() {
					t.Fatal("deliveries must be deterministic: a repeated answer is the same answer")
				}
			}
		})
	}
}

func TestKWh(t *testing.T) {
	cases := []struct {
		amount   int64
		quantity int32
		want     string
	}{
		{20000, 1, "13.84"}, {50000, 1, "34.61"}, {100000, 2, "34.61"}, {1444, 1, "1.00"}, {1445, 1, "1.00"}, {0, 1, "0.00"},
	}
	for _, c := range cases {
		if got := KWh(c.amount, c.quantity); got != c.want {
			t.Errorf("KWh(%d, %d) = %s, want %s", c.amount, c.quantity, got, c.want)
		}
	}
}

func TestNotificationRoundTripAndSignature(t *testing.T) {
	const secret = "s3cret"
	f := fulfillment(productv1.DeliveryKind_DELIVERY_KIND_ELECTRICITY_TOKEN, 2, 40000)
	outcome := Outcome(f, Reference(f.GetId()))
	payload := EncodeNotification(f.GetId(), outcome)
	signature := biller.Sign(secret, payload)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(signature) {
		t.Fatalf("signature %q is not lower-case hex SHA-256", signature)
	}
	n, err := ParseNotification(secret, payload, signature)
	if err != nil {
		t.Fatal(err)
	}
	if n.FulfillmentID != f.GetId() || !n.Outcome.Succeeded || len(n.Outcome.Deliveries) != 2 || n.Outcome.Reference != outcome.Reference {
		t.Fatalf("got %+v", n)
	}
	cases := []struct {
		name, secret, signature string
		payload                 []byte
	}{
		{"other secret", "other", signature, payload},
		{"upper-case hex", secret, strings.ToUpper(signature), payload},
		{"payload changed", secret, signature, append([]byte(" "), payload...)},
		{"empty signature", secret, "", payload},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseNotification(c.secret, c.payload, c.signature); !errors.Is(err, biller.ErrBadSignature) {
				t.Fatalf("got %v, want ErrBadSignature", err)
			}
		})
	}
}

// A signed payload the service cannot record is refused (INVALID_ARGUMENT for the caller),
// never stored half or failing in the database.
func TestUnreadablePayloadsAreRefused(t *testing.T) {
	const secret = "s3cret"
	id := "ful_0123456789abcdef0123456789abcdef"
	cases := []struct{ name, payload string }{
		{"not JSON", `{"fulfillment_id":`},
		{"no fulfillment id", `{"biller_reference":"SBX-1","status":"FAILED"}`},
		{"no reference", `{"fulfillment_id":"` + id + `","status":"FAILED"}`},
		{"reference too long", `{"fulfillment_id":"` + id + `","biller_reference":"` + strings.Repeat("R", store.MaxReferenceLength+1) + `","status":"FAILED"}`},
		{"succeeded without deliveries", `{"fulfillment_id":"` + id + `","biller_reference":"SBX-1","status":"SUCCEEDED"}`},
		{"unknown status", `{"fulfillment_id":"` + id + `","biller_reference":"SBX-1","status":"DONE"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			payload := []byte(c.payload)
			n, err := ParseNotification(secret, payload, biller.Sign(secret, payload))
			if err == nil || errors.Is(err, biller.ErrBadSignature) {
				t.Fatalf("got %+v, %v; want an unreadable payload", n, err)
			}
		})
	}
	longest := `{"fulfillment_id":"` + id + `","biller_reference":"` + strings.Repeat("R", store.MaxReferenceLength) + `","status":"FAILED"}`
	if _, err := ParseNotification(secret, []byte(longest), biller.Sign(secret, []byte(longest))); err != nil {
		t.Fatalf("a reference of %d bytes is accepted: %v", store.MaxReferenceLength, err)
	}
}

func TestFailedNotificationFormat(t *testing.T) {
	f := fulfillment(productv1.DeliveryKind_DELIVERY_KIND_PHONE_CREDIT, 1, 10000)
	f.Destination = map[string]string{"phone_number": "081234560001"}
	payload := string(EncodeNotification(f.GetId(), Outcome(f, "SBX-1")))
	want := `{"fulfillment_id":"ful_0123456789abcdef0123456789abcdef","biller_reference":"SBX-1","status":"FAILED",` +
		`"failure_reason":"FAILURE_REASON_DESTINATION_REFUSED","failure_message":"sandbox: the destination refuses this product"}`
	if payload != want {
		t.Fatalf("got %s", payload)
	}
}

func TestLookup(t *testing.T) {
	telkomsel := &productv1.Product{Id: "pulsa-telkomsel", DestinationFields: []*productv1.DestinationField{
		{Name: "phone_number", Prefixes: []string{"0811", "0812", "0813"}, LookupSupported: true}}}
	pln := &productv1.Product{Id: "token-pln", DestinationFields: []*productv1.DestinationField{{Name: "meter_number", LookupSupported: true}}}
	cases := []struct {
		name         string
		product      *productv1.Product
		field, value string
		notFound     bool
		customer     bool
		operator     string
		matches      bool
	}{
		{"meter", pln, "meter_number", "14123456789", false, true, "", true},
		{"unknown meter", pln, "meter_number", "14123450000", true, false, "", false},
		{"telkomsel number", telkomsel, "phone_number", "081234567890", false, false, "Telkomsel", true},
		{"indosat number for telkomsel", telkomsel, "phone_number", "081534567890", false, false, "Indosat", false},
		{"xl", telkomsel, "phone_number", "087734567890", false, false, "XL", false},
		{"smartfren", telkomsel, "phone_number", "088134567890", false, false, "Smartfren", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Lookup(c.product, c.field, map[string]string{c.field: c.value})
			if c.notFound {
				if !errors.Is(err, biller.ErrDestinationNotFound) {
					t.Fatalf("got %v, want ErrDestinationNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got.GetCustomerName() != "") != c.customer || got.GetOperatorName() != c.operator || got.GetMatchesProduct() != c.matches {
				t.Fatalf("got %v", got)
			}
			if c.customer && !strings.Contains(got.GetDetail(), "VA") {
				t.Errorf("a meter's detail names its tariff and power, got %q", got.GetDetail())
			}
		})
	}
}
