package meta

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// The formats a metrics-api trigger reads.
const (
	MetricsAPIFormatJSON       = "json"
	MetricsAPIFormatYAML       = "yaml"
	MetricsAPIFormatXML        = "xml"
	MetricsAPIFormatPrometheus = "prometheus"
)

// MetricsAPIMetadata is the metrics-api trigger's metadata, with KEDA's parameter names.
type MetricsAPIMetadata struct {
	TargetValue           float64 `keda:"name=targetValue, order=triggerMetadata, optional"`
	ActivationTargetValue float64 `keda:"name=activationTargetValue, order=triggerMetadata, default=0"`
	URL                   string  `keda:"name=url, order=triggerMetadata"`
	Format                string  `keda:"name=format, order=triggerMetadata, default=json, enum=prometheus;json;xml;yaml"`
	ValueLocation         string  `keda:"name=valueLocation, order=triggerMetadata"`
	UnsafeSsl             bool    `keda:"name=unsafeSsl, order=triggerMetadata, default=false"`
	// AggregateFromKubeServiceEndpoints asks to call every endpoint of a Service and aggregate;
	// it is accepted as KEDA accepts it, and refused when true (see Validate).
	AggregateFromKubeServiceEndpoints bool   `keda:"name=aggregateFromKubeServiceEndpoints, order=triggerMetadata, default=false"`
	AggregationType                   string `keda:"name=aggregationType, order=triggerMetadata, default=average, enum=average;sum;max;min"`
	Timeout                           string `keda:"name=timeout, order=triggerMetadata, optional"`

	// The authentication parameters every HTTP scaler shares.
	HTTPAuthParams
	MetricSource

	// Set by Validate.
	ParsedURL       *url.URL
	Selector        *PromSelector
	ResolvedTimeout time.Duration
	Auth            *HTTPAuth
}

// Validate checks the parameters. Parameters only the metadata holds are checked first:
// offline, a missing credential ends validation.
func (m *MetricsAPIMetadata) Validate() error {
	if m.TargetValue < 0 || (m.TargetValue == 0 && !m.AsMetricSource()) {
		return &ParamError{Param: "targetValue", Problem: "is missing or not above 0", Fix: "set metadata.targetValue, the value per replica the HPA aims at"}
	}
	u, err := httpURL("url", m.URL, "http://api.jobs:8080/api/v1/stats")
	if err != nil {
		return err
	}
	m.ParsedURL = u
	if m.AggregateFromKubeServiceEndpoints {
		return &ParamError{Param: "aggregateFromKubeServiceEndpoints", Problem: "is not supported by kedactl",
			Fix: "point metadata.url at one endpoint that already aggregates the replicas (or scrape them with Prometheus and use a prometheus trigger), and remove aggregateFromKubeServiceEndpoints"}
	}
	if m.Format == MetricsAPIFormatPrometheus {
		if m.Selector, err = ParsePromSelector(m.ValueLocation); err != nil {
			return &ParamError{Param: "valueLocation", Problem: fmt.Sprintf("%q is not a metric selector (%v)", m.ValueLocation, err),
				Fix: `with format prometheus, use a metric name and optional label values, such as queue_size or queue_size{queue="jobs"}`}
		}
	}
	if m.ResolvedTimeout, err = ParseTriggerTimeout(m.Timeout); err != nil {
		return err
	}
	p := m.HTTPAuthParams
	m.Auth, err = p.Validate()
	return err
}

// PromSelector is a metric name with label values, as in queue_size{queue="jobs"}.
type PromSelector struct {
	Name   string
	Labels [][2]string
}

// ParsePromSelector reads name, name{label="value", ...} or {__name__="name", ...}; label
// values are quoted with ", ' or `. Only equality matchers are read.
func ParsePromSelector(s string) (*PromSelector, error) {
	s = strings.TrimSpace(s)
	sel := &PromSelector{}
	name, rest, hasLabels := strings.Cut(s, "{")
	sel.Name = strings.TrimSpace(name)
	if hasLabels {
		body, ok := strings.CutSuffix(strings.TrimSpace(rest), "}")
		if !ok {
			return nil, errors.New("no closing }")
		}
		for body = strings.TrimSpace(body); body != ""; {
			i := strings.IndexAny(body, "=!~")
			if i <= 0 {
				return nil, fmt.Errorf("%q is not label=\"value\"", body)
			}
			label := strings.TrimSpace(body[:i])
			if !model.LabelName(label).IsValidLegacy() {
				return nil, fmt.Errorf("%q is not a label name", label)
			}
			op := body[i:]
			if !strings.HasPrefix(op, "=") || strings.HasPrefix(op, "=~") {
				return nil, fmt.Errorf("label %s: only = matchers are supported", label)
			}
			value, after, err := cutQuoted(strings.TrimSpace(op[1:]))
			if err != nil {
				return nil, fmt.Errorf("label %s: %w", label, err)
			}
			if label == "__name__" {
				sel.Name = value
			} else {
				sel.Labels = append(sel.Labels, [2]string{label, value})
			}
			after = strings.TrimSpace(after)
			if after != "" && !strings.HasPrefix(after, ",") {
				return nil, fmt.Errorf("expected , after label %s", label)
			}
			body = strings.TrimSpace(strings.TrimPrefix(after, ","))
		}
	}
	if sel.Name == "" {
		return nil, errors.New("no metric name")
	}
	if !model.LegacyValidation.IsValidMetricName(sel.Name) {
		return nil, fmt.Errorf("%q is not a metric name", sel.Name)
	}
	return sel, nil
}

// cutQuoted reads a quoted string at the start of s and returns it unquoted and what follows.
func cutQuoted(s string) (value, rest string, err error) {
	if s == "" || !strings.ContainsRune("\"'`", rune(s[0])) {
		return "", "", errors.New("the value is not quoted")
	}
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == '\\' && q != '`':
			i++
		case s[i] == q:
			raw := s[1:i]
			switch q {
			case '`':
				return raw, s[i+1:], nil
			case '\'':
				raw = strings.NewReplacer(`\'`, `'`, `"`, `\"`).Replace(raw)
			}
			v, err := strconv.Unquote(`"` + raw + `"`)
			if err != nil {
				return "", "", fmt.Errorf("bad escape in %s", s[:i+1])
			}
			return v, s[i+1:], nil
		}
	}
	return "", "", errors.New("the value's quote is not closed")
}
