// Package destinations checks a destination (where a product is delivered: a phone number,
// a meter, a game account) against its product's destination fields, with the one
// algorithm every part of Pasar uses (pasar_kit.destinations in Python, the storefront's
// TypeScript): the keys are exactly the fields' names, and each value has its field's
// length, one of its prefixes (when it has any) and fully matches its pattern, checked in
// that order. The first broken rule of the first broken field (in the fields' order, then
// unknown keys, sorted) is the one reported.
package destinations

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"
)

// The rule a violation names, the same ids in every language
// (contracts/testdata/destination_cases.json).
const (
	RuleMissing   = "missing"
	RuleMinLength = "min_length"
	RuleMaxLength = "max_length"
	RulePrefixes  = "prefixes"
	RulePattern   = "pattern"
	RuleUnknown   = "unknown"
)

// Violation is a broken rule of one destination field: the field (or unknown key), the
// rule's id and what the value must be, in English.
type Violation struct {
	Field       string
	Rule        string
	Description string
}

// Path is the violation's BadRequest field path inside a request whose destination map is
// at prefix, such as `destination["meter_number"]`.
func (v Violation) Path(prefix string) string {
	return fmt.Sprintf("%s[%q]", prefix, v.Field)
}

// Violations lists, per field in order, the first rule its value breaks, then the keys
// no field names (sorted). A product without destination fields takes an empty destination.
func Violations(fields []*productv1.DestinationField, destination map[string]string) []Violation {
	var violations []Violation
	known := make(map[string]bool, len(fields))
	for _, field := range fields {
		known[field.GetName()] = true
		value, ok := destination[field.GetName()]
		if !ok {
			violations = append(violations, Violation{field.GetName(), RuleMissing, fmt.Sprintf("%s is required", field.GetLabelEn())})
			continue
		}
		if rule, description := brokenRule(field, value); rule != "" {
			violations = append(violations, Violation{field.GetName(), rule, description})
		}
	}
	var unknown []string
	for key := range destination {
		if !known[key] {
			unknown = append(unknown, key)
		}
	}
	sort.Strings(unknown)
	for _, key := range unknown {
		violations = append(violations, Violation{key, RuleUnknown, "the product has no destination field of this name"})
	}
	return violations
}

// brokenRule is the first rule of field that value breaks and its description, or "", "".
func brokenRule(field *productv1.DestinationField, value string) (rule, description string) {
	length := utf8.RuneCountInString(value)
	if length < int(field.GetMinLength()) || length > int(field.GetMaxLength()) {
		rule = RuleMinLength
		if length > int(field.GetMaxLength()) {
			rule = RuleMaxLength
		}
		if field.GetMinLength() == field.GetMaxLength() {
			return rule, fmt.Sprintf("%s must be %d characters long", field.GetLabelEn(), field.GetMinLength())
		}
		return rule, fmt.Sprintf("%s must be %d to %d characters long", field.GetLabelEn(), field.GetMinLength(), field.GetMaxLength())
	}
	if prefixes := field.GetPrefixes(); len(prefixes) > 0 && !hasAnyPrefix(value, prefixes) {
		return RulePrefixes, fmt.Sprintf("%s must start with one of %s", field.GetLabelEn(), strings.Join(prefixes, ", "))
	}
	pattern, err := anchored(field.GetPattern())
	if err != nil || !pattern.MatchString(value) {
		return RulePattern, fmt.Sprintf("%s is not in the expected format", field.GetLabelEn())
	}
	return "", ""
}

func hasAnyPrefix(value string, prefixes []string) bool {
	for _, prefix := range prefixes {
		if strings.HasPrefix(value, prefix) {
			return true
		}
	}
	return false
}

var compiled sync.Map // pattern -> *regexp.Regexp: a catalog has few patterns, asked often

// anchored compiles pattern to match a whole value, with or without its own ^ and $.
func anchored(pattern string) (*regexp.Regexp, error) {
	if re, ok := compiled.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return nil, err
	}
	compiled.Store(pattern, re)
	return re, nil
}
