package meta

import (
	"fmt"
	"regexp"
	"strings"
)

// AzureServiceBusMetadata is the azure-servicebus trigger's metadata, with KEDA's parameter names
// and sources. It counts the active messages of a queue, or of a topic's subscription, from the
// namespace's management API; with useRegex, of every queue (or subscription of the topic) whose
// whole name the expression matches, combined by operation.
type AzureServiceBusMetadata struct {
	MessageCount           int64  `keda:"name=messageCount, order=triggerMetadata, default=5"`
	ActivationMessageCount int64  `keda:"name=activationMessageCount, order=triggerMetadata, optional"`
	QueueName              string `keda:"name=queueName, order=triggerMetadata, optional"`
	TopicName              string `keda:"name=topicName, order=triggerMetadata, optional"`
	SubscriptionName       string `keda:"name=subscriptionName, order=triggerMetadata, optional"`
	Connection             string `keda:"name=connection, order=authParams;resolvedEnv, optional, secret"`
	Namespace              string `keda:"name=namespace, order=triggerMetadata, optional"`
	UseRegex               bool   `keda:"name=useRegex, order=triggerMetadata, optional"`
	Operation              string `keda:"name=operation, order=triggerMetadata, enum=sum;max;avg, default=sum"`
	MetricSource

	// Set by Validate: the expression the entity names must match with useRegex, nil without.
	NameRegex *regexp.Regexp
	// Set by ValidateConfig; nil offline when the connection string is yet to come.
	ServiceBus *AzureServiceBusNamespace
}

// Validate checks what the metadata alone decides: a queue, or a topic with a subscription, and
// with useRegex a valid expression in the name that varies (queueName or subscriptionName).
func (m *AzureServiceBusMetadata) Validate() error {
	switch {
	case m.QueueName != "" && m.TopicName != "":
		return &ParamError{Param: "topicName", Problem: "is set together with queueName", Fix: "name either a queue (queueName) or a topic with its subscription (topicName and subscriptionName)"}
	case m.QueueName != "" && m.SubscriptionName != "":
		return &ParamError{Param: "subscriptionName", Problem: "is set together with queueName", Fix: "a queue has no subscriptions: remove subscriptionName, or name its topic in topicName instead of queueName"}
	case m.TopicName != "" && m.SubscriptionName == "":
		return &ParamError{Param: "subscriptionName", Problem: "is required with topicName", Fix: "name the topic's subscription whose messages count"}
	case m.QueueName == "" && m.TopicName == "":
		return &ParamError{Param: "queueName", Problem: "is required (or topicName and subscriptionName)", Fix: "name the queue, or the topic and subscription, whose active messages count"}
	case m.MessageCount < 0 || (m.MessageCount == 0 && !m.AsMetricSource()):
		// KEDA takes any number, but the HPA refuses a target that is not above 0; a metric source
		// of scalingModifiers gives the HPA no target of its own.
		return &ParamError{Param: "messageCount", Problem: fmt.Sprintf("is %d", m.MessageCount), Fix: "must be at least 1: it is the number of messages per replica the HPA aims at"}
	}
	if !m.UseRegex {
		return nil
	}
	param, expr := "queueName", m.QueueName
	if m.TopicName != "" {
		param, expr = "subscriptionName", m.SubscriptionName
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return &ParamError{Param: param, Problem: "is not a valid regular expression (useRegex is true): " + Clip(err.Error(), 120),
			Fix: "use a Go (RE2) regular expression that matches whole entity names, such as orders-.*"}
	}
	re.Longest()
	m.NameRegex = re
	return nil
}

// ValidateConfig requires the connection string, here rather than in Validate so that, offline, a
// string a TriggerAuthentication or the target's env will supply does not hide the checks above,
// and reads it.
func (m *AzureServiceBusMetadata) ValidateConfig(t *Trigger) error {
	if m.Connection == "" {
		if t.Offline && (t.HasAuthenticationRef || strings.TrimSpace(t.Metadata["connectionFromEnv"]) != "") {
			return nil
		}
		fix := "set parameter connection (the namespace's connection string, with Manage rights) in a TriggerAuthentication (secretTargetRef), or metadata.connectionFromEnv naming an env var of the target's container that holds it"
		if m.Namespace != "" {
			fix += "; namespace alone is for KEDA's azure-workload pod identity, which this operator does not resolve, so no credential was found"
		}
		return t.Identify(&ParamError{Param: "connection", Problem: "is required", Fix: fix})
	}
	ns, err := ParseAzureServiceBusConnection(m.Connection)
	if err != nil {
		return t.Identify(&ParamError{Param: "connection", Problem: "is not a Service Bus connection string: " + err.Error(),
			Fix: "copy a connection string from the namespace's Shared access policies, such as Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=...;SharedAccessKey=..."})
	}
	m.ServiceBus = ns
	return nil
}

// Matches reports whether name is one of the entities a useRegex trigger counts: KEDA keeps a
// name when the expression's leftmost-longest match is the whole name.
func (m *AzureServiceBusMetadata) Matches(name string) bool {
	return m.NameRegex != nil && m.NameRegex.FindString(name) == name
}

// MetricNamePart is the metric's name after s<index>-, before normalization, as KEDA names it:
// the queue's or the topic's name, or queue-regex/topic-regex with useRegex.
func (m *AzureServiceBusMetadata) MetricNamePart() string {
	kind, name := "queue", m.QueueName
	if m.TopicName != "" {
		kind, name = "topic", m.TopicName
	}
	if m.UseRegex {
		name = kind + "-regex"
	}
	return "azure-servicebus-" + name
}

// AzureServiceBusCombine combines the active message counts of the entities a useRegex trigger
// matched as KEDA does: their sum, their largest, or their average rounded down; 0 for none.
func AzureServiceBusCombine(counts []int64, operation string) int64 {
	var result int64
	for _, n := range counts {
		if operation == "max" {
			result = max(result, n)
		} else {
			result += n
		}
	}
	if operation == "avg" && len(counts) > 0 {
		return result / int64(len(counts))
	}
	return result
}
