package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	rabbitserver "github.com/kedactl/kedactl/test/servers/rabbitmq"
)

const rabbitE2EPassword = "e2e-rabbit-secret/with:odd@chars"

// rabbitSecret holds a RabbitMQ host URL (password included) for rabbitAuth.
func rabbitSecret(host string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: rabbitmq-secret\nstringData:\n  host: %q\n", host)
}

// rabbitAuth is the TriggerAuthentication rabbitmq-auth: the trigger's host from rabbitSecret.
const rabbitAuth = `apiVersion: keda.sh/v1alpha1
kind: TriggerAuthentication
metadata:
  name: rabbitmq-auth
spec:
  secretTargetRef:
    - parameter: host
      name: rabbitmq-secret
      key: host
`

// TestRabbitMQScalesZeroToMaxToZero: a rabbitmq trigger on a real RabbitMQ, its host URL
// (password included) from a Secret through a TriggerAuthentication, keeps a worker at 0 while
// a queue on a non-default vhost is empty, activates it on the first message, lets the real HPA
// scale it to max on a backlog and returns it to 0 after the cooldown once the queue is purged;
// once over AMQP and once over the management API. A wrong password then fails the trigger
// without the password showing in its status, events or the operator's log.
func TestRabbitMQScalesZeroToMaxToZero(t *testing.T) {
	s := requireSuite(t)
	t.Parallel()
	srv := rabbitserver.Start(t, rabbitserver.Options{Password: rabbitE2EPassword, Vhost: "e2e-orders"})
	for _, protocol := range []string{"amqp", "http"} {
		t.Run(protocol, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			queue := "jobs-" + protocol
			if err := srv.DeclareQueue(srv.Vhost, queue); err != nil {
				t.Fatal(err)
			}
			host := map[string]string{"amqp": srv.AMQPURL(srv.Vhost), "http": srv.ManagementURL(srv.Vhost)}[protocol]
			ns := s.newNamespace(t, "rabbitmq-"+protocol)
			s.apply(t, ns, deployment("worker", 0, nil))
			s.apply(t, ns, rabbitSecret(host))
			s.apply(t, ns, rabbitAuth+fmt.Sprintf(`---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: worker
spec:
  scaleTargetRef:
    name: worker
  pollingInterval: 1
  cooldownPeriod: 5
  maxReplicaCount: 4
  triggers:
    - type: rabbitmq
      authenticationRef:
        name: rabbitmq-auth
      metadata:
        protocol: %s
        queueName: %s
        mode: QueueLength
        value: "2"
`, protocol, queue))

			metric := "s0-rabbitmq-" + queue
			published := 0
			fill := func(total int) {
				t.Helper()
				if err := srv.Publish(ctx, srv.Vhost, queue, total-published); err != nil {
					t.Fatal(err)
				}
				published = total
			}
			drain := func() {
				t.Helper()
				if err := srv.Purge(srv.Vhost, queue); err != nil {
					t.Fatal(err)
				}
			}
			// Over http a new message shows once the management API's statistics have it (within a
			// second or so), and the statistics lag a purge, which only makes the deactivation later.
			s.walkZeroToMaxToZero(t, ns, journey{metric: metric, fill: fill, drain: drain, activateWithin: 30 * time.Second, slack: time.Second})

			// A wrong password in the Secret fails the trigger; the password shows nowhere.
			wrong := strings.Replace(host, url.UserPassword(srv.User, srv.Password).String(), url.UserPassword(srv.User, "wrong-"+rabbitE2EPassword).String(), 1)
			s.apply(t, ns, rabbitSecret(wrong))
			eventually(t, 60*time.Second, "the trigger failing", func(ctx context.Context) (bool, string) {
				so, err := s.scaledObject(ctx, ns, "worker")
				if err != nil {
					return false, err.Error()
				}
				h := so.Status.Health[metric]
				return string(h.Status) == "Failing", fmt.Sprintf("%+v", so.Status.Health)
			})
			s.waitEvent(t, ns, "worker", "KEDAScalerFailed")
			if events, err := s.env.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{}); err == nil {
				for _, ev := range events.Items {
					if ev.Reason == "KEDAScalerFailed" {
						t.Logf("event %s: %s", ev.Reason, ev.Message)
						break
					}
				}
			}
			checkNoRabbitMQPassword(t, s, ns)
		})
	}
}

// checkNoRabbitMQPassword fails when the password (as written or escaped) appears in the
// ScaledObject's status, the namespace's events or the operator's log.
func checkNoRabbitMQPassword(t *testing.T, s *suite, ns string) {
	t.Helper()
	ctx := context.Background()
	places := map[string]string{}
	so, err := s.scaledObject(ctx, ns, "worker")
	if err != nil {
		t.Fatal(err)
	}
	status, _ := json.Marshal(so.Status)
	places["status"] = string(status)
	events, err := s.env.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events.Items {
		places["event "+ev.Reason] += ev.Message + "\n"
	}
	logData, err := os.ReadFile(s.env.OperatorLog)
	if err != nil {
		t.Fatal(err)
	}
	places["operator log"] = string(logData)
	forms := []string{rabbitE2EPassword, url.PathEscape(rabbitE2EPassword), url.QueryEscape(rabbitE2EPassword), url.UserPassword("u", rabbitE2EPassword).String()[2:]}
	for where, text := range places {
		for _, pw := range forms {
			if strings.Contains(text, pw) {
				t.Errorf("the password (%q) appears in the %s", pw, where)
			}
		}
	}
}
