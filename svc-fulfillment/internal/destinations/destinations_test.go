package destinations

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"
)

// The one table of cases every destination checker is tested with (pasar_kit.destinations
// in Python, the storefront's src/destinations.ts, and this package).
const sharedCases = "../../../contracts/testdata/destination_cases.json"

var phone = &productv1.DestinationField{Name: "phone_number", LabelEn: "Phone number", Pattern: "08[0-9]+",
	MinLength: 10, MaxLength: 13, Prefixes: []string{"0811", "0812"}, Example: "081234567890"}

type ruleOf struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
}

type table struct {
	FieldSets map[string][]json.RawMessage `json:"field_sets"`
	Cases     []struct {
		Name        string            `json:"name"`
		Fields      string            `json:"fields"`
		Destination map[string]string `json:"destination"`
		Violations  []ruleOf          `json:"violations"`
	} `json:"cases"`
}

func readTable(t *testing.T) (table, map[string][]*productv1.DestinationField) {
	t.Helper()
	data, err := os.ReadFile(sharedCases)
	if err != nil {
		t.Fatal(err)
	}
	var cases table
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	fieldSets := make(map[string][]*productv1.DestinationField, len(cases.FieldSets))
	for name, fields := range cases.FieldSets {
		fieldSets[name] = []*productv1.DestinationField{}
		for _, raw := range fields {
			field := &productv1.DestinationField{}
			if err := protojson.Unmarshal(raw, field); err != nil {
				t.Fatalf("field set %s: %v", name, err)
			}
			fieldSets[name] = append(fieldSets[name], field)
		}
	}
	return cases, fieldSets
}

func TestTheSharedTableOfCases(t *testing.T) {
	cases, fieldSets := readTable(t)
	if len(cases.Cases) == 0 {
		t.Fatal("the shared table has no cases")
	}
	for _, c := range cases.Cases {
		t.Run(c.Name, func(t *testing.T) {
			fields, ok := fieldSets[c.Fields]
			if !ok {
				t.Fatalf("no field set %q", c.Fields)
			}
			got := []ruleOf{}
			for _, v := range Violations(fields, c.Destination) {
				got = append(got, ruleOf{v.Field, v.Rule})
			}
			want := append([]ruleOf{}, c.Violations...)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

func TestTheSharedTableCoversEveryRule(t *testing.T) {
	cases, _ := readTable(t)
	seen := map[string]bool{}
	for _, c := range cases.Cases {
		for _, v := range c.Violations {
			seen[v.Rule] = true
		}
	}
	for _, rule := range []string{RuleMissing, RuleMinLength, RuleMaxLength, RulePrefixes, RulePattern, RuleUnknown} {
		if !seen[rule] {
			t.Errorf("no case breaks the rule %s", rule)
		}
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
