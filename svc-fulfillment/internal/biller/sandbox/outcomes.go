// Package sandbox is the sandbox biller: deterministic outcomes chosen by the destination
// (documented numbers that succeed, fail or answer late), realistic deliveries, and an
// answer sent later through a signed notification that is handled exactly like a real
// biller's. Its pending answers are kept in its own table, so an answer due when the
// process is killed still comes after a restart.
package sandbox

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/store"
)

// Name is the sandbox biller's name in notifications.
const Name = "sandbox"

// The destination endings that choose an outcome, first match wins (README.md documents them).
const (
	EndingNotFound    = "0000"
	EndingRefused     = "0001"
	EndingUnavailable = "0002"
	EndingLate        = "0009"
)

// RupiahPerKWh is the tariff the sandbox's electricity tokens are worth at (R1/1300 VA).
const RupiahPerKWh = 1444.70

// Plan is what the sandbox will answer for a destination, and after how long.
type Plan struct {
	Succeeded bool
	Failure   *fulfillmentv1.Failure
	Late      bool
}

// PlanFor is the outcome the destination's values choose: the first rule that matches any value.
func PlanFor(destination map[string]string) Plan {
	rules := []struct {
		ending string
		plan   Plan
	}{
		{EndingNotFound, failed(fulfillmentv1.FailureReason_FAILURE_REASON_DESTINATION_NOT_FOUND, "sandbox: no customer has this destination")},
		{EndingRefused, failed(fulfillmentv1.FailureReason_FAILURE_REASON_DESTINATION_REFUSED, "sandbox: the destination refuses this product")},
		{EndingUnavailable, failed(fulfillmentv1.FailureReason_FAILURE_REASON_PRODUCT_UNAVAILABLE, "sandbox: the product is out of stock at the operator")},
		{EndingLate, Plan{Succeeded: true, Late: true}},
	}
	for _, rule := range rules {
		for _, value := range destination {
			if strings.HasSuffix(value, rule.ending) {
				return rule.plan
			}
		}
	}
	return Plan{Succeeded: true}
}

func failed(reason fulfillmentv1.FailureReason, message string) Plan {
	return Plan{Failure: &fulfillmentv1.Failure{Reason: reason, Message: message}}
}

// Delay is how long after the request the plan's answer comes.
func (p Plan) Delay(delay, late time.Duration) time.Duration {
	if p.Late {
		return late
	}
	return delay
}

// Outcome is the sandbox's answer for f under reference: deterministic, so that a
// repeated answer is the same answer (a duplicate, never a conflict).
func Outcome(f *fulfillmentv1.Fulfillment, reference string) store.Outcome {
	plan := PlanFor(f.GetDestination())
	if !plan.Succeeded {
		return store.Outcome{Reference: reference, Failure: plan.Failure}
	}
	return store.Outcome{Reference: reference, Succeeded: true, Deliveries: Deliveries(f)}
}

// Deliveries are one delivery per unit of f, as its delivery kind hands over.
func Deliveries(f *fulfillmentv1.Fulfillment) []*fulfillmentv1.Delivery {
	deliveries := make([]*fulfillmentv1.Delivery, 0, f.GetQuantity())
	for unit := range int(f.GetQuantity()) {
		digits := newDigits(f.GetId(), unit)
		d := &fulfillmentv1.Delivery{SerialNumber: digits.take(16 + int(digits.next()%5))}
		switch f.GetDeliveryKind() {
		case productv1.DeliveryKind_DELIVERY_KIND_ELECTRICITY_TOKEN:
			d.Token = groups(digits.take(20), 4, "-")
			d.Kwh = KWh(f.GetAmount().GetAmount(), f.GetQuantity())
		case productv1.DeliveryKind_DELIVERY_KIND_VOUCHER_CODE:
			d.VoucherCode = groups(digits.code(16), 4, "-")
		}
		deliveries = append(deliveries, d)
	}
	return deliveries
}

// KWh is what one unit of a line costing amount rupiah for quantity units is worth at
// RupiahPerKWh, with two decimals ("13.85"), rounded half up in integer arithmetic.
func KWh(amount int64, quantity int32) string {
	if quantity <= 0 {
		return "0.00"
	}
	// hundredths of a kWh = amount * 100 / quantity / 1444.70 = amount * 10000 / (quantity * 144470)
	divisor := int64(quantity) * int64(RupiahPerKWh*100)
	hundredths := (amount*10000*2 + divisor) / (2 * divisor)
	return fmt.Sprintf("%d.%02d", hundredths/100, hundredths%100)
}

// unambiguous is the voucher alphabet: no 0/O, 1/I/L, 5/S or 2/Z to misread.
const unambiguous = "346789ABCDEFGHJKMNPQRTUVWXY"

// digits is a deterministic stream of numbers drawn from a fulfillment id and a unit.
type digits struct {
	seed    [32]byte
	counter uint64
	buffer  []byte
}

func newDigits(id string, unit int) *digits {
	return &digits{seed: sha256.Sum256(fmt.Appendf(nil, "%s/%d", id, unit))}
}

func (d *digits) next() uint64 {
	if len(d.buffer) < 8 {
		var block [40]byte
		copy(block[:], d.seed[:])
		binary.BigEndian.PutUint64(block[32:], d.counter)
		d.counter++
		sum := sha256.Sum256(block[:])
		d.buffer = append(d.buffer, sum[:]...)
	}
	value := binary.BigEndian.Uint64(d.buffer[:8])
	d.buffer = d.buffer[8:]
	return value
}

// take is n decimal digits, the first one not zero (a serial number reads as a number).
func (d *digits) take(n int) string {
	var b strings.Builder
	for i := range n {
		digit := d.next() % 10
		if i == 0 {
			digit = 1 + d.next()%9
		}
		b.WriteByte(byte('0' + digit))
	}
	return b.String()
}

func (d *digits) code(n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(unambiguous[d.next()%uint64(len(unambiguous))])
	}
	return b.String()
}

// groups splits text into groups of size joined by separator ("1234-5678-...").
func groups(text string, size int, separator string) string {
	var parts []string
	for len(text) > size {
		parts = append(parts, text[:size])
		text = text[size:]
	}
	return strings.Join(append(parts, text), separator)
}
