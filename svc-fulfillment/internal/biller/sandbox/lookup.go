package sandbox

import (
	"strings"

	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/biller"
)

// customerNames are the names the sandbox's PLN meters belong to, picked by the number.
var customerNames = []string{
	"BUDI SANTOSO", "SITI RAHAYU", "AGUS SETIAWAN", "DEWI LESTARI", "EKO PRASETYO",
	"SRI WAHYUNI", "ANDI WIJAYA", "RINA KURNIAWATI", "HENDRA GUNAWAN", "NUR HIDAYAH",
}

// tariffs are the sandbox meters' tariff and power, picked by the number.
var tariffs = []string{"R1/900 VA", "R1/1300 VA", "R1/2200 VA", "R2/3500 VA"}

// operatorPrefixes is the Indonesian mobile prefix table: the first four digits name the operator.
var operatorPrefixes = map[string]string{}

func init() {
	table := map[string][]string{
		"Telkomsel": {"0811", "0812", "0813", "0821", "0822", "0823", "0851", "0852", "0853"},
		"Indosat":   {"0814", "0815", "0816", "0855", "0856", "0857", "0858"},
		"XL":        {"0817", "0818", "0819", "0859", "0877", "0878"},
		"Axis":      {"0831", "0832", "0833", "0838"},
		"Tri":       {"0895", "0896", "0897", "0898", "0899"},
		"Smartfren": {"0881", "0882", "0883", "0884", "0885", "0886", "0887", "0888", "0889"},
	}
	for operator, prefixes := range table {
		for _, prefix := range prefixes {
			operatorPrefixes[prefix] = operator
		}
	}
}

// Operator is the operator a phone number's prefix belongs to, or "".
func Operator(phoneNumber string) string {
	if len(phoneNumber) < 4 {
		return ""
	}
	return operatorPrefixes[phoneNumber[:4]]
}

// Lookup answers what the sandbox knows of the value of field: a meter's customer and
// tariff, a phone number's operator and whether it is the product's. A value ending in
// 0000 is unknown, as its fulfillment would fail with DESTINATION_NOT_FOUND.
func Lookup(product *productv1.Product, field string, destination map[string]string) (*fulfillmentv1.LookupDestinationResponse, error) {
	value := destination[field]
	if strings.HasSuffix(value, EndingNotFound) {
		return nil, biller.ErrDestinationNotFound
	}
	switch field {
	case "meter_number":
		pick := digitSum(value)
		return &fulfillmentv1.LookupDestinationResponse{
			CustomerName: customerNames[pick%len(customerNames)], Detail: tariffs[pick%len(tariffs)], MatchesProduct: true,
		}, nil
	case "phone_number":
		response := &fulfillmentv1.LookupDestinationResponse{OperatorName: Operator(value), MatchesProduct: true}
		for _, f := range product.GetDestinationFields() {
			if f.GetName() == field && len(f.GetPrefixes()) > 0 {
				response.MatchesProduct = hasAnyPrefix(value, f.GetPrefixes())
			}
		}
		if !response.MatchesProduct {
			response.Detail = "the number is not one of this product's operator"
		}
		return response, nil
	}
	return &fulfillmentv1.LookupDestinationResponse{MatchesProduct: true}, nil
}

func digitSum(value string) int {
	sum := 0
	for _, r := range value {
		if r >= '0' && r <= '9' {
			sum = (sum*7 + int(r-'0')) % 1000003
		}
	}
	if sum < 0 {
		sum = -sum
	}
	return sum
}

func hasAnyPrefix(value string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(value, p) {
			return true
		}
	}
	return false
}
