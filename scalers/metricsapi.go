package scalers

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/tidwall/gjson"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/metrics/pkg/apis/external_metrics"
	"sigs.k8s.io/yaml"
)

// metricsAPIScaler GETs one document per poll and reads a number out of it.
type metricsAPIScaler struct {
	cfg        *Config
	meta       meta.MetricsAPIMetadata
	client     *httpClient
	metricName string
}

func newMetricsAPIScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &metricsAPIScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	// KEDA names it s<index>-metric-api-<valueLocation>, normalized.
	s.metricName = MetricName(cfg.TriggerIndex, "metric-api-"+s.meta.ValueLocation)
	p := s.meta.HTTPAuthParams
	s.client = newHTTPClient(cfg, &p, s.meta.Auth, "url", s.meta.ParsedURL, s.meta.ResolvedTimeout, s.meta.UnsafeSsl)
	return s, nil
}

func (s *metricsAPIScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.meta.TargetValue)
}

// GetMetricsAndActivity reads the value once; the trigger is active when it is above
// activationTargetValue.
func (s *metricsAPIScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	body, err := s.client.get(ctx, s.meta.ParsedURL, nil)
	if err != nil {
		return nil, false, err
	}
	v, err := metricsAPIValue(body, s.meta.Format, s.meta.ValueLocation, s.meta.Selector)
	if err != nil {
		return nil, false, s.client.redactErr(fmt.Errorf("%s: GET %s: %w", triggerWho(s.cfg), s.meta.ParsedURL.Redacted(), err))
	}
	return oneMetricValue(metricName, v), v > s.meta.ActivationTargetValue, nil
}

func (s *metricsAPIScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// metricsAPIValue reads the number at location in a document of format: a GJSON path for json,
// a dot-separated path for yaml and xml, a metric selector for prometheus (already parsed into
// sel). A number, or a string holding a quantity ("12", "2.5", "10Mi"), is the value.
func metricsAPIValue(body []byte, format, location string, sel *meta.PromSelector) (float64, error) {
	var v float64
	var err error
	switch format {
	case meta.MetricsAPIFormatJSON:
		if !gjson.ValidBytes(body) {
			return 0, notFormat("JSON", body, errors.New("invalid JSON"))
		}
		v, err = jsonValue(body, location)
	case meta.MetricsAPIFormatYAML:
		var doc any
		if yerr := yaml.Unmarshal(body, &doc); yerr != nil {
			return 0, notFormat("YAML", body, yerr)
		}
		v, err = pathValue(doc, location)
	case meta.MetricsAPIFormatXML:
		doc, xerr := xmlTree(body)
		if xerr != nil {
			return 0, notFormat("XML", body, xerr)
		}
		v, err = pathValue(doc, location)
	case meta.MetricsAPIFormatPrometheus:
		families, perr := promTextFamilies(body)
		if perr != nil {
			return 0, notFormat("in the Prometheus text format", body, perr)
		}
		v, err = promTextValue(families, sel)
	default:
		return 0, fmt.Errorf("format %q is not one of json, yaml, xml, prometheus", format)
	}
	if err != nil {
		return 0, fmt.Errorf("valueLocation %s: %w: check metadata.valueLocation against the answer", meta.Quote(location, 200), err)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("valueLocation %s holds %g, not a finite number: check metadata.valueLocation", meta.Quote(location, 200), v)
	}
	return v, nil
}

// notFormat says the answer is not in the trigger's format, quoting its start.
func notFormat(format string, body []byte, err error) error {
	start := meta.Quote(strings.TrimSpace(string(body)), 60)
	return fmt.Errorf("the answer is not %s (%s; it starts with %s): set metadata.format to the answer's format, or check metadata.url", format, meta.Clip(err.Error(), 200), start)
}

// jsonValue reads location, a GJSON path, in a JSON document.
func jsonValue(body []byte, location string) (float64, error) {
	r := gjson.GetBytes(body, location)
	switch r.Type {
	case gjson.Number:
		return r.Num, nil
	case gjson.String:
		return quantityValue(r.Str)
	case gjson.Null:
		if !r.Exists() {
			return 0, errors.New("matches nothing in the answer")
		}
		return 0, errors.New("is null, not a number")
	default:
		kind := map[gjson.Type]string{gjson.True: "a boolean", gjson.False: "a boolean", gjson.JSON: "an object or array"}[r.Type]
		return 0, fmt.Errorf("is %s, not a number", kind)
	}
}

// quantityValue reads a string value as KEDA does: a Kubernetes quantity.
func quantityValue(s string) (float64, error) {
	q, err := resource.ParseQuantity(strings.TrimSpace(s))
	if err != nil {
		if len(s) > 40 {
			s = s[:40] + "..."
		}
		return 0, fmt.Errorf("holds %q, which is neither a number nor a quantity such as 10Mi", s)
	}
	return q.AsApproximateFloat64(), nil
}

// pathValue walks a dot-separated path (foo.0.bar) through maps and lists.
func pathValue(doc any, location string) (float64, error) {
	cur := doc
	walked := "the document"
	for _, seg := range strings.Split(location, ".") {
		// The error quotes the segment that did not match, and the one before it: at most a
		// line of each, whatever the location's length.
		shown := meta.Clip(seg, 80)
		switch node := cur.(type) {
		case map[string]any:
			next, ok := node[seg]
			switch {
			case ok:
				cur = next
			case seg == "0":
				// A lone XML element is a list of one.
			default:
				return 0, fmt.Errorf("%s has no %q (it has %s)", walked, shown, keysOf(node))
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(node) {
				return 0, fmt.Errorf("%s is a list of %d, and %q is not an index in it", walked, len(node), shown)
			}
			cur = node[i]
		default:
			// A lone XML element is a list of one.
			if seg != "0" {
				return 0, fmt.Errorf("%s is a value, and has no %q", walked, shown)
			}
		}
		walked = strconv.Quote(shown)
	}
	switch v := cur.(type) {
	case float64:
		return v, nil
	case int64:
		return float64(v), nil
	case int:
		return float64(v), nil
	case string:
		return quantityValue(v)
	case nil:
		return 0, errors.New("is null, not a number")
	case map[string]any:
		return 0, fmt.Errorf("is a map (of %s), not a number", keysOf(v))
	case []any:
		return 0, fmt.Errorf("is a list of %d, not a number", len(v))
	default:
		return 0, fmt.Errorf("is a %T, not a number", cur)
	}
}

// keysOf lists a map's keys for an error, sorted and cut short.
func keysOf(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, meta.Quote(k, 40))
	}
	sort.Strings(keys)
	if len(keys) > 10 {
		keys = append(keys[:10], "...")
	}
	if len(keys) == 0 {
		return "nothing"
	}
	return strings.Join(keys, ", ")
}

// xmlTree turns an XML document into maps, lists and strings for pathValue: the root element
// is the one key of the top map; an element with child elements is a map of them (repeated
// names make a list), one without is its trimmed text. Attributes are not read.
func xmlTree(body []byte) (any, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no root element")
		}
		if err != nil {
			return nil, err
		}
		if start, ok := tok.(xml.StartElement); ok {
			v, err := xmlElement(dec)
			if err != nil {
				return nil, err
			}
			return map[string]any{start.Name.Local: v}, nil
		}
	}
}

func xmlElement(dec *xml.Decoder) (any, error) {
	children := map[string]any{}
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			v, err := xmlElement(dec)
			if err != nil {
				return nil, err
			}
			switch prev := children[t.Name.Local].(type) {
			case nil:
				children[t.Name.Local] = v
			case []any:
				children[t.Name.Local] = append(prev, v)
			default:
				children[t.Name.Local] = []any{prev, v}
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if len(children) > 0 {
				return children, nil
			}
			return strings.TrimSpace(text.String()), nil
		}
	}
}

// promTextFamilies parses the Prometheus text exposition format.
func promTextFamilies(body []byte) (map[string]*dto.MetricFamily, error) {
	text := strings.ReplaceAll(string(body), "\r\n", "\n")
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(strings.NewReader(text))
}

// promTextValue reads the first sample of sel's metric whose labels include sel's.
func promTextValue(families map[string]*dto.MetricFamily, sel *meta.PromSelector) (float64, error) {
	family, ok := families[sel.Name]
	if !ok {
		names := make(map[string]any, len(families))
		for n := range families {
			names[n] = nil
		}
		return 0, fmt.Errorf("the answer has no metric %s (it has %s)", sel.Name, keysOf(names))
	}
	for _, m := range family.GetMetric() {
		if !hasLabels(m.GetLabel(), sel.Labels) {
			continue
		}
		switch {
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), nil
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), nil
		case m.GetUntyped() != nil:
			return m.GetUntyped().GetValue(), nil
		default:
			return 0, fmt.Errorf("%s is a %s: point at a gauge, counter or untyped metric", sel.Name, strings.ToLower(family.GetType().String()))
		}
	}
	return 0, fmt.Errorf("no sample of %s has those label values", sel.Name)
}

// hasLabels reports whether labels include every wanted name=value pair.
func hasLabels(labels []*dto.LabelPair, want [][2]string) bool {
	for _, w := range want {
		found := false
		for _, l := range labels {
			if l.GetName() == w[0] && l.GetValue() == w[1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
