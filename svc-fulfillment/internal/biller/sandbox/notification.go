package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"

	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/biller"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/store"
)

// The statuses of a notification.
const (
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
)

// Payload is the sandbox's notification body (README.md documents it); empty keys are omitted.
type Payload struct {
	FulfillmentID   string            `json:"fulfillment_id"`
	BillerReference string            `json:"biller_reference"`
	Status          string            `json:"status"`
	Deliveries      []PayloadDelivery `json:"deliveries,omitempty"`
	FailureReason   string            `json:"failure_reason,omitempty"`
	FailureMessage  string            `json:"failure_message,omitempty"`
}

// PayloadDelivery is one unit's delivery in a notification.
type PayloadDelivery struct {
	SerialNumber string `json:"serial_number,omitempty"`
	Token        string `json:"token,omitempty"`
	Kwh          string `json:"kwh,omitempty"`
	VoucherCode  string `json:"voucher_code,omitempty"`
}

// EncodeNotification is the payload telling outcome for fulfillment id.
func EncodeNotification(id string, outcome store.Outcome) []byte {
	p := Payload{FulfillmentID: id, BillerReference: outcome.Reference, Status: StatusFailed}
	if outcome.Succeeded {
		p.Status = StatusSucceeded
		for _, d := range outcome.Deliveries {
			p.Deliveries = append(p.Deliveries, PayloadDelivery{d.GetSerialNumber(), d.GetToken(), d.GetKwh(), d.GetVoucherCode()})
		}
	} else {
		p.FailureReason = outcome.Failure.GetReason().String()
		p.FailureMessage = outcome.Failure.GetMessage()
	}
	payload, _ := json.Marshal(p) // plain strings and slices always encode
	return payload
}

// ParseNotification checks the signature under secret, then reads the payload.
func ParseNotification(secret string, payload []byte, signature string) (*biller.Notification, error) {
	if !biller.Verify(secret, payload, signature) {
		return nil, biller.ErrBadSignature
	}
	var p Payload
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("the payload is not the sandbox's JSON: %w", err)
	}
	if p.FulfillmentID == "" || p.BillerReference == "" {
		return nil, errors.New("the payload lacks fulfillment_id or biller_reference")
	}
	if len(p.BillerReference) > store.MaxReferenceLength {
		return nil, fmt.Errorf("biller_reference is longer than %d bytes", store.MaxReferenceLength)
	}
	outcome := store.Outcome{Reference: p.BillerReference}
	switch p.Status {
	case StatusSucceeded:
		if len(p.Deliveries) == 0 {
			return nil, errors.New("a SUCCEEDED payload lists no deliveries")
		}
		outcome.Succeeded = true
		for _, d := range p.Deliveries {
			outcome.Deliveries = append(outcome.Deliveries, &fulfillmentv1.Delivery{
				SerialNumber: d.SerialNumber, Token: d.Token, Kwh: d.Kwh, VoucherCode: d.VoucherCode})
		}
	case StatusFailed:
		reason, ok := fulfillmentv1.FailureReason_value[p.FailureReason]
		if !ok || reason == 0 {
			reason = int32(fulfillmentv1.FailureReason_FAILURE_REASON_BILLER_ERROR)
		}
		outcome.Failure = &fulfillmentv1.Failure{Reason: fulfillmentv1.FailureReason(reason), Message: p.FailureMessage}
	default:
		return nil, fmt.Errorf("status must be %s or %s, not %q", StatusSucceeded, StatusFailed, p.Status)
	}
	return &biller.Notification{FulfillmentID: p.FulfillmentID, Outcome: outcome}, nil
}
