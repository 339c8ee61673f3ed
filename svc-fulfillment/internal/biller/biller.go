// Package biller is what the service needs from a biller (an aggregator of operators, PLN
// and game publishers): accept a fulfillment request, look up a destination, and read its
// signed notifications. A real aggregator's adapter implements Biller beside the sandbox;
// nothing else in the service changes.
package biller

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/store"
)

// Biller delivers order lines and tells how it went.
type Biller interface {
	// Name is how notifications name the biller, such as "sandbox".
	Name() string
	// Supports tells whether the biller delivers kind.
	Supports(kind productv1.DeliveryKind) bool
	// Request asks the biller to deliver f and returns its reference for the transaction.
	// The biller must be idempotent on f's id: a repeated request (after a crash between
	// its acceptance and our record of it) returns the same reference and delivers once.
	Request(ctx context.Context, f *fulfillmentv1.Fulfillment) (string, error)
	// Lookup tells what the biller knows of a destination of product (already checked
	// against the product's destination fields) in field, the field it can look up.
	Lookup(ctx context.Context, product *productv1.Product, field string, destination map[string]string) (*fulfillmentv1.LookupDestinationResponse, error)
	// ParseNotification checks payload's signature and reads it. ErrBadSignature when the
	// signature does not verify; another error when the payload cannot be read.
	ParseNotification(payload []byte, signature string) (*Notification, error)
}

// Notification is a biller's answer for one fulfillment.
type Notification struct {
	FulfillmentID string
	Outcome       store.Outcome
}

// ErrBadSignature is a notification whose signature does not verify.
var ErrBadSignature = errors.New("the notification's signature does not verify")

// ErrDestinationNotFound is a destination the biller does not know (Lookup).
var ErrDestinationNotFound = errors.New("the biller knows no such destination")

// Sign is the lower-case hexadecimal HMAC-SHA256 of payload under secret.
func Sign(secret string, payload []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(payload)
	return hex.EncodeToString(mac.Sum(nil))
}

// Verify checks signature against payload in constant time.
func Verify(secret string, payload []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, payload)), []byte(signature))
}
