package destinations

import (
	"reflect"
	"testing"

	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"
)

var (
	phone = &productv1.DestinationField{Name: "phone_number", LabelEn: "Phone number", Pattern: "08[0-9]+",
		MinLength: 10, MaxLength: 13, Prefixes: []string{"0811", "0812"}, Example: "081234567890"}
	meter = &productv1.DestinationField{Name: "meter_number", LabelEn: "Meter number", Pattern: "^[0-9]{11}$",
		MinLength: 11, MaxLength: 11, Example: "14123456789"}
	user = &productv1.DestinationField{Name: "user_id", LabelEn: "User ID", Pattern: "[0-9]+", MinLength: 1, MaxLength: 12}
	zone = &productv1.DestinationField{Name: "zone_id", LabelEn: "Zone ID", Pattern: "[0-9]{4}", MinLength: 4, MaxLength: 4}
)

func TestViolations(t *testing.T) {
	cases := []struct {
		name        string
		fields      []*productv1.DestinationField
		destination map[string]string
		want        []string // the fields named, in order
	}{
		{"valid phone", []*productv1.DestinationField{phone}, map[string]string{"phone_number": "081234567890"}, nil},
		{"too short", []*productv1.DestinationField{phone}, map[string]string{"phone_number": "0812345"}, []string{"phone_number"}},
		{"too long", []*productv1.DestinationField{phone}, map[string]string{"phone_number": "08123456789012"}, []string{"phone_number"}},
		{"other operator's prefix", []*productv1.DestinationField{phone}, map[string]string{"phone_number": "081734567890"}, []string{"phone_number"}},
		{"pattern broken", []*productv1.DestinationField{phone}, map[string]string{"phone_number": "0812345678x0"}, []string{"phone_number"}},
		{"pattern is anchored", []*productv1.DestinationField{user}, map[string]string{"user_id": "12a"}, []string{"user_id"}},
		{"own anchors kept", []*productv1.DestinationField{meter}, map[string]string{"meter_number": "14123456789"}, nil},
		{"missing field", []*productv1.DestinationField{user, zone}, map[string]string{"user_id": "123"}, []string{"zone_id"}},
		{"fields' order, then unknown keys sorted", []*productv1.DestinationField{user, zone},
			map[string]string{"zone_id": "12", "user_id": "x", "b": "1", "a": "1"}, []string{"user_id", "zone_id", "a", "b"}},
		{"no fields, empty destination", nil, map[string]string{}, nil},
		{"no fields, any key is unknown", nil, map[string]string{"phone_number": "0812"}, []string{"phone_number"}},
		{"length counts characters, not bytes", []*productv1.DestinationField{zone}, map[string]string{"zone_id": "١٢٣٤"}, []string{"zone_id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, v := range Violations(c.fields, c.destination) {
				got = append(got, v.Field)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestRulesAreCheckedLengthThenPrefixThenPattern(t *testing.T) {
	cases := []struct {
		value, says string
	}{
		{"0817x", "Phone number must be 10 to 13 characters long"},         // all three broken: length first
		{"0817xxxxxxxx", "Phone number must start with one of 0811, 0812"}, // prefix and pattern: prefix first
		{"0812xxxxxxxx", "Phone number is not in the expected format"},
	}
	for _, c := range cases {
		t.Run(c.value, func(t *testing.T) {
			v := Violations([]*productv1.DestinationField{phone}, map[string]string{"phone_number": c.value})
			if len(v) != 1 || v[0].Description != c.says {
				t.Fatalf("got %v, want %q", v, c.says)
			}
		})
	}
}

func TestPath(t *testing.T) {
	v := Violation{Field: "meter_number"}
	if got := v.Path("destination"); got != `destination["meter_number"]` {
		t.Fatal(got)
	}
	if got := v.Path("lines[0].destination"); got != `lines[0].destination["meter_number"]` {
		t.Fatal(got)
	}
}
