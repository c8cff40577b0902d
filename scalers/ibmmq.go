package scalers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// ibmmqCommand is the MQSC command KEDA runs through IBM MQ's administrative REST API for each
// queue, as runCommandJSON: DISPLAY QLOCAL(<name>) CURDEPTH.
type ibmmqCommand struct {
	Type               string   `json:"type"`
	Command            string   `json:"command"`
	Qualifier          string   `json:"qualifier"`
	Name               string   `json:"name"`
	ResponseParameters []string `json:"responseParameters"`
}

// ibmmqAnswer is the REST API's answer to a runCommandJSON: one commandResponse per object,
// with its parameters, or the queue manager's messages when the command failed.
type ibmmqAnswer struct {
	CommandResponse []struct {
		CompletionCode int      `json:"completionCode"`
		ReasonCode     int      `json:"reasonCode"`
		Message        []string `json:"message"`
		Parameters     *struct {
			Curdepth *int64 `json:"curdepth"`
		} `json:"parameters"`
	} `json:"commandResponse"`
}

// ibmmqErrorBody is the REST API's error answer (any status outside 2xx).
type ibmmqErrorBody struct {
	Error []struct {
		MsgID       string `json:"msgId"`
		Message     string `json:"message"`
		Explanation string `json:"explanation"`
	} `json:"error"`
}

// ibmmqDepth reads the queue's current depth from a 200 answer to DISPLAY QLOCAL ... CURDEPTH.
// A command the queue manager refused (an unknown queue: AMQ8147E, reason 2085) carries its
// messages instead of parameters.
func ibmmqDepth(body []byte) (int64, error) {
	var a ibmmqAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, fmt.Errorf("the answer is not an IBM MQ REST API response: check that metadata.host is the queue manager's .../admin/action/qmgr/<qmgr>/mqsc URL")
	}
	if len(a.CommandResponse) == 0 {
		return 0, fmt.Errorf("the answer has no commandResponse: check that metadata.host is the queue manager's .../mqsc URL")
	}
	r := a.CommandResponse[0]
	if len(r.Message) > 0 {
		return 0, fmt.Errorf("the queue manager answered completion code %d, reason %d: %s", r.CompletionCode, r.ReasonCode, meta.Clip(strings.Join(r.Message, " "), 300))
	}
	if r.Parameters == nil || r.Parameters.Curdepth == nil {
		return 0, fmt.Errorf("the answer has no curdepth: is the queue a local queue?")
	}
	if *r.Parameters.Curdepth < 0 {
		return 0, fmt.Errorf("the answer's curdepth %d is negative", *r.Parameters.Curdepth)
	}
	return *r.Parameters.Curdepth, nil
}

// ibmmqCombine is KEDA's operation over the queues' depths: max, avg (rounded down) or sum.
func ibmmqCombine(depths []int64, operation string) int64 {
	if len(depths) == 0 {
		return 0
	}
	var sum int64
	for _, d := range depths {
		sum += d
	}
	switch operation {
	case "sum":
		return sum
	case "avg":
		return sum / int64(len(depths))
	default:
		return slices.Max(depths)
	}
}

// ibmmqScaler reads the current depth of one or more local queues.
type ibmmqScaler struct {
	cfg        *Config
	meta       meta.IBMMQMetadata
	client     *httpClient
	metricName string
}

func newIBMMQScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &ibmmqScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	// Named after the first queue, as KEDA names it.
	s.metricName = MetricName(cfg.TriggerIndex, "ibmmq-"+s.meta.QueueName[0])
	p := s.meta.Creds
	s.client = newHTTPClient(cfg, &p, s.meta.Auth, "host", s.meta.HostURL, 0, s.meta.UnsafeSsl)
	return s, nil
}

func (s *ibmmqScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, float64(s.meta.QueueDepth))
}

// GetMetricsAndActivity reads every queue's depth and combines them; the trigger is active above
// activationQueueDepth.
func (s *ibmmqScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	depths := make([]int64, 0, len(s.meta.QueueName))
	for _, q := range s.meta.QueueName {
		d, err := s.depth(ctx, q)
		if err != nil {
			return nil, false, err
		}
		depths = append(depths, d)
	}
	v := ibmmqCombine(depths, s.meta.Operation)
	return oneMetricValue(metricName, float64(v)), v > s.meta.ActivationQueueDepth, nil
}

func (s *ibmmqScaler) Close(context.Context) error {
	s.client.close()
	return nil
}

// depth runs DISPLAY QLOCAL(queue) CURDEPTH. The REST API refuses a state-changing request
// without the ibm-mq-rest-csrf-token header (any value), which every POST needs.
func (s *ibmmqScaler) depth(ctx context.Context, queue string) (int64, error) {
	body, err := json.Marshal(ibmmqCommand{Type: "runCommandJSON", Command: "display", Qualifier: "qlocal", Name: queue, ResponseParameters: []string{"CURDEPTH"}})
	if err != nil {
		return 0, fmt.Errorf("%s: could not encode the command for queue %q: %w", triggerWho(s.cfg), queue, err)
	}
	header := http.Header{"Content-Type": {"application/json"}, "Ibm-Mq-Rest-Csrf-Token": {"value"}}
	u := s.meta.HostURL
	status, answer, err := s.client.send(ctx, http.MethodPost, u, header, body)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, s.client.failOn(http.MethodPost, u, s.statusError(status, answer, queue))
	}
	d, err := ibmmqDepth(answer)
	if err != nil {
		return 0, s.client.failOn(http.MethodPost, u, fmt.Errorf("queue %s: %w", queue, err))
	}
	return d, nil
}

// statusError words an error answer with IBM's own message and what to check.
func (s *ibmmqScaler) statusError(status int, body []byte, queue string) error {
	var e ibmmqErrorBody
	reason := ""
	if json.Unmarshal(body, &e) == nil && len(e.Error) > 0 {
		reason = meta.Clip(e.Error[0].Message, 300)
	}
	base := fmt.Errorf("queue %s: %w", queue, &httpStatusError{code: status})
	if reason != "" {
		base = fmt.Errorf("%w (%s)", base, s.client.redactErr(fmt.Errorf("%s", reason)))
	}
	switch status {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w: the REST API refused username and password: check them in the TriggerAuthentication", base)
	case http.StatusForbidden:
		return fmt.Errorf("%w: the user may not run MQSC commands: give it the MQWebAdmin or MQWebAdminRO role", base)
	case http.StatusNotFound:
		return fmt.Errorf("%w: check the queue manager's name in metadata.host", base)
	}
	return base
}
