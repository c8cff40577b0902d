package meta

import (
	"strings"
	"time"
)

// GCPAggregation is the aggregation of a timeSeries.list request; a zero period asks for none.
type GCPAggregation struct {
	Period  time.Duration
	Aligner string // ALIGN_..., or "" for none
	Reducer string // REDUCE_..., or "" for none
}

// gcpAligners and gcpReducers are the aligner and reducer names KEDA takes (any case), and
// Cloud Monitoring's enum values for them.
var gcpAligners = map[string]string{
	"delta": "ALIGN_DELTA", "rate": "ALIGN_RATE", "interpolate": "ALIGN_INTERPOLATE", "next_older": "ALIGN_NEXT_OLDER",
	"min": "ALIGN_MIN", "max": "ALIGN_MAX", "mean": "ALIGN_MEAN", "count": "ALIGN_COUNT", "sum": "ALIGN_SUM",
	"stddev": "ALIGN_STDDEV", "count_true": "ALIGN_COUNT_TRUE", "count_false": "ALIGN_COUNT_FALSE",
	"fraction_true": "ALIGN_FRACTION_TRUE", "percentile_99": "ALIGN_PERCENTILE_99", "percentile_95": "ALIGN_PERCENTILE_95",
	"percentile_50": "ALIGN_PERCENTILE_50", "percentile_05": "ALIGN_PERCENTILE_05", "percent_change": "ALIGN_PERCENT_CHANGE",
}

var gcpReducers = map[string]string{
	"mean": "REDUCE_MEAN", "min": "REDUCE_MIN", "max": "REDUCE_MAX", "sum": "REDUCE_SUM", "stddev": "REDUCE_STDDEV",
	"count": "REDUCE_COUNT", "count_true": "REDUCE_COUNT_TRUE", "count_false": "REDUCE_COUNT_FALSE",
	"fraction_true": "REDUCE_FRACTION_TRUE", "percentile_99": "REDUCE_PERCENTILE_99", "percentile_95": "REDUCE_PERCENTILE_95",
	"percentile_50": "REDUCE_PERCENTILE_50", "percentile_05": "REDUCE_PERCENTILE_05",
}

// gcpEnumValue is the enum value of name in values; "" and "none" are no value.
func gcpEnumValue(param, name string, values map[string]string, example string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" || n == "none" {
		return "", nil
	}
	if v, ok := values[n]; ok {
		return v, nil
	}
	return "", &ParamError{Param: param, Problem: Quote(name, 40) + " is not known", Fix: "use one of Cloud Monitoring's names in lower case, such as " + example + ", or none"}
}
