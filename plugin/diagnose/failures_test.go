package diagnose

import (
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kedav1alpha1 "github.com/kedactl/kedactl/api/v1alpha1"
)

// TestFailureCause: the operator's own error texts (HTTP scalers, Azure Storage, SQS, Redis,
// SQL, Kafka) are sorted into the causes describe names.
func TestFailureCause(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{`trigger 0 (metrics-api): GET http://api:8080/q: HTTP 401: the server refused the credentials of authModes bearer: check them in the TriggerAuthentication`, CauseCredentials},
		{`trigger 0 (prometheus): GET http://prom/api/v1/query: HTTP 403: the server wants credentials: set metadata.authModes and its parameters in a TriggerAuthentication`, CauseCredentials},
		{`trigger 0 (datadog): GET https://api.datadoghq.com/api/v1/query: HTTP 403: Datadog refused the keys: check apiKey and appKey in the TriggerAuthentication`, CauseCredentials},
		{`trigger 0 (aws-sqs-queue): GetQueueAttributes: InvalidClientTokenId: The security token included in the request is invalid`, CauseCredentials},
		{`trigger 0 (redis): WRONGPASS invalid username-password pair or user is disabled`, CauseCredentials},
		{`trigger 0 (postgresql): failed to connect: FATAL: password authentication failed for user "keda" (SQLSTATE 28P01)`, CauseCredentials},
		{`trigger 0 (azure-queue): GET https://acct.queue.core.windows.net/q: HTTP 403: the credential was refused: check AccountName and AccountKey`, CauseCredentials},
		{`trigger 0 (aws-sqs-queue): GetQueueAttributes: AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist`, CauseNotFound},
		{`trigger 0 (azure-blob): GET https://acct.blob.core.windows.net/c: HTTP 404: container c does not exist in the account the connection string names`, CauseNotFound},
		{`trigger 0 (etcd): key "/jobs" does not exist on 127.0.0.1:2379: check watchKey, and that the producer has written it`, CauseNotFound},
		{`trigger 0 (metrics-api): GET https://api/q: the server's certificate is not trusted: set parameter ca (its CA's PEM) in a TriggerAuthentication: tls: failed to verify certificate: x509: certificate signed by unknown authority`, CauseCertificate},
		{`trigger 0 (loki): GET http://loki/q: no answer within the trigger's timeout of 3s: check that the server at metadata.serverAddress answers, or raise metadata.timeout: context deadline exceeded`, CauseTimeout},
		{`trigger 0 (prometheus): GET http://127.0.0.1:1/api/v1/query: could not reach the server: check metadata.serverAddress and that the server runs: dial tcp 127.0.0.1:1: connect: connection refused`, CauseUnreachable},
		{`trigger 0 (redis): dial tcp: lookup redis.nowhere on 10.0.0.10:53: no such host`, CauseUnreachable},
		{`trigger 0 (aws-kinesis-stream): could not describe Kinesis stream clicks: operation error Kinesis: DescribeStreamSummary, https response error StatusCode: 403, RequestID: , api error InvalidSignatureException: The request signature we calculated does not match the signature you provided.: AWS refused the credentials: check awsAccessKeyID, awsSecretAccessKey and awsSessionToken in the TriggerAuthentication`, CauseCredentials},
		{`trigger 0 (aws-kinesis-stream): could not describe Kinesis stream missing: operation error Kinesis: DescribeStreamSummary, https response error StatusCode: 400, RequestID: 0b4c, ResourceNotFoundException: Stream missing under account 000000000000 not found.: the stream does not exist: check metadata.streamName and awsRegion`, CauseNotFound},
		{`trigger 0 (aws-dynamodb): could not query DynamoDB table missing: operation error DynamoDB: Query, https response error StatusCode: 400, RequestID: 6A0A, ResourceNotFoundException: Requested resource not found: the table (or indexName) does not exist: check metadata.tableName, indexName and awsRegion`, CauseNotFound},
		{`trigger 0 (aws-dynamodb): could not query DynamoDB table jobs: operation error DynamoDB: Query, https response error StatusCode: 400, RequestID: Q3CU, api error ValidationException: Query condition missed key schema element: queue: DynamoDB refused the Query: check metadata.keyConditionExpression, filterExpression, expressionAttributeNames and expressionAttributeValues against the table's keys`, CauseRefused},
		{`trigger 0 (aws-cloudwatch): could not read CloudWatch metric Shop/Backlog: operation error CloudWatch: GetMetricData, https response error StatusCode: 403, RequestID: , api error InvalidClientTokenId: The security token included in the request is invalid.: AWS refused the credentials: check awsAccessKeyID, awsSecretAccessKey and awsSessionToken in the TriggerAuthentication`, CauseCredentials},
		{`trigger 0 (aws-cloudwatch): could not read CloudWatch metric Shop/Backlog: operation error CloudWatch: GetMetricData, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Post "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused: nothing listens at the endpoint: check metadata.awsEndpoint`, CauseUnreachable},
		{`trigger 0 (aws-dynamodb-streams): could not describe DynamoDB table orders: operation error DynamoDB: DescribeTable, https response error StatusCode: 400, RequestID: , api error UnrecognizedClientException: The security token included in the request is invalid.: AWS refused the credentials: check awsAccessKeyID, awsSecretAccessKey and awsSessionToken in the TriggerAuthentication`, CauseCredentials},
		{`trigger 0 (aws-dynamodb-streams): could not describe DynamoDB table missing: operation error DynamoDB: DescribeTable, https response error StatusCode: 400, RequestID: , ResourceNotFoundException: Requested resource not found: Table: missing not found: the table does not exist: check metadata.tableName and awsRegion`, CauseNotFound},
		{`trigger 0 (aws-dynamodb-streams): the stream of DynamoDB table plain does not exist (DescribeTable named no LatestStreamArn): enable DynamoDB Streams on the table`, CauseNotFound},
		{`trigger 0 (aws-dynamodb-streams): could not describe the stream of DynamoDB table orders: operation error DynamoDB Streams: DescribeStream, https response error StatusCode: 400, RequestID: , ResourceNotFoundException: Requested resource not found: Stream: arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-12-07T21:18:16.077 not found: the table's stream no longer exists (a stream is kept 24 hours after it is disabled): check the table's stream and recreate the trigger`, CauseNotFound},
		{`trigger 0 (aws-dynamodb-streams): could not describe DynamoDB table orders: operation error DynamoDB: DescribeTable, exceeded maximum number of attempts, 4, https response error StatusCode: 0, RequestID: , request send failed, Post "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused: nothing listens at the endpoint: check metadata.awsEndpoint`, CauseUnreachable},
		{`trigger 0 (loki): GET http://loki/q: HTTP 400: Loki refused the query: check metadata.query (a LogQL metric query)`, CauseRefused},
		{`trigger 0 (artemis-queue): GET http://artemis:8161/console/jolokia/read/x/MessageCount: the server answered 401 Unauthorized: the Artemis console refused username and password: check them in the TriggerAuthentication`, CauseCredentials},
		{`trigger 0 (activemq): GET http://amq:8161/api/jolokia/read/x/QueueSize: Jolokia answered status 404 javax.management.InstanceNotFoundException: javax.management.InstanceNotFoundException : x: the queue's MBean was not found: check brokerName and destinationName, or the MBean in restAPITemplate`, CauseNotFound},
		{`trigger 0 (activemq): GET http://127.0.0.1:1/api/jolokia/read/x/QueueSize: could not reach the server: check metadata.restAPITemplate and that the server runs: dial tcp 127.0.0.1:1: connect: connection refused`, CauseUnreachable},
		{`trigger 0 (ibmmq): POST https://mq:9443/ibmmq/rest/v2/admin/action/qmgr/QM1/mqsc: queue DEV.GONE: the queue manager answered completion code 2, reason 2085: AMQ8147E: IBM MQ object DEV.GONE not found.`, CauseNotFound},
		{`trigger 0 (ibmmq): POST https://mq:9443/ibmmq/rest/v2/admin/action/qmgr/QM1/mqsc: queue Q: the server answered 401 Unauthorized (MQWB0112E: The user ID or password is not valid.): the REST API refused username and password: check them in the TriggerAuthentication`, CauseCredentials},
		{`trigger 0 (azure-pipelines): GET https://dev.azure.com/acme/_apis/distributedtask/pools?poolName=linux: the Azure DevOps API answered 401: it refused the credentials: check personalAccessToken in the TriggerAuthentication`, CauseCredentials},
		{`trigger 0 (azure-pipelines): GET https://dev.azure.com/acme/_apis/distributedtask/pools/7/jobrequests: the Azure DevOps API answered 203 with a sign-in page: it refused the credentials: check personalAccessToken`, CauseCredentials},
		{`trigger 0 (azure-pipelines): GET https://dev.azure.com/acme/_apis/distributedtask/pools?poolName=mac: agent pool "mac" not found: check metadata.poolName`, CauseNotFound},
		{`trigger 0 (azure-pipelines): GET https://dev.azure.com/acme/_apis/distributedtask/pools/42: the Azure DevOps API answered 404 not found (TaskAgentPoolNotFoundException: Agent pool 42 could not be found.): check organizationURL, poolName and poolID`, CauseNotFound},
		{`trigger 0 (azure-pipelines): GET https://dev.azure.com/acme/_apis/distributedtask/pools/7/jobrequests: the Azure DevOps API answered 429: rate limit reached, retry after 30 s (RequestBlockedException: Request was blocked): raise pollingInterval`, CauseRefused},
		{`trigger 0 (azure-servicebus): GET https://acme.servicebus.windows.net/orders?api-version=2021-05: the Service Bus namespace answered 401 Unauthorized (Manage,EntityRead claims required for this operation.): it refused the credential: check SharedAccessKeyName and SharedAccessKey (or the SharedAccessSignature and its expiry) in the connection string; reading runtime properties takes a policy with Manage rights`, CauseCredentials},
		{`trigger 0 (azure-servicebus): GET https://acme.servicebus.windows.net/shipping?api-version=2021-05: queue "shipping" (metadata.queueName) does not exist in the namespace acme.servicebus.windows.net: check the name and the connection string's Endpoint`, CauseNotFound},
		{`trigger 0 (azure-servicebus): GET https://acme.servicebus.windows.net/nope/Subscriptions/billing?api-version=2021-05: the Service Bus namespace answered 404 Not Found (Entity 'acme:Topic:nope|billing' was not found.): subscription "billing" of topic "nope" (metadata.subscriptionName, metadata.topicName) does not exist in the namespace the connection string names`, CauseNotFound},
		{`trigger 0 (azure-servicebus): GET https://10.0.0.9:5671/orders?api-version=2021-05: the namespace's certificate is not trusted: the operator verifies it against the system's CAs and those of its --ca-dir: tls: failed to verify certificate: x509: certificate signed by unknown authority`, CauseCertificate},
		{`trigger 0 (azure-servicebus): GET https://acme.servicebus.windows.net/orders?api-version=2021-05: could not reach the Service Bus namespace: check the Endpoint of the connection string and the operator's network: dial tcp: lookup acme.servicebus.windows.net: no such host`, CauseUnreachable},
		{`trigger 0 (azure-servicebus): GET https://acme.servicebus.windows.net/orders?api-version=2021-05: no answer within the trigger's timeout of 3s: check the Endpoint of the connection string and that it is reachable from the operator: context deadline exceeded`, CauseTimeout},
		{`trigger 0 (azure-servicebus): GET https://acme.servicebus.windows.net/$Resources/Queues?%24skip=0&%24top=100&api-version=2021-05: the Service Bus namespace answered 429 Too Many Requests: the namespace is throttling requests (rate limit), retry after 10 s: raise pollingInterval`, CauseRefused},
		{`trigger 0 (metrics-api): the answer has no number at valueLocation "value"`, ""},
		{`trigger 0 (solr): GET http://solr:8983/solr/orders/select?q=%2A%3A%2A&wt=json: the server answered 401 Unauthorized: the server refused the credentials of authModes basic: check them in the TriggerAuthentication (answer: <html> <h2>HTTP ERROR 401 Bad credentials</h2> </html>)`, CauseCredentials},
		{`trigger 0 (solr): GET http://solr:8983/solr/invoices/select?q=%2A%3A%2A&wt=json: the server answered 404 Not Found: check the path in metadata.host (answer: <html> <h2>HTTP ERROR 404 Not Found</h2> </html>): Solr has no collection or core "invoices": check metadata.collection and metadata.host`, CauseNotFound},
		{`trigger 0 (solr): GET http://solr:8983/solr/orders/select?q=%2A%3A%2A&wt=json: could not reach the server: check metadata.host and that the server runs: dial tcp 10.0.0.7:8983: connect: connection refused`, CauseUnreachable},
		{`trigger 0 (solr): GET http://solr:8983/solr/orders/select?q=a%3A%28&wt=json: the server answered 400 Bad Request (answer: {"error":{"msg":"org.apache.solr.search.SyntaxError: Cannot parse 'a:('","code":400}}): Solr refused the query: check metadata.query (Solr's standard query syntax)`, CauseRefused},
		{`trigger 0 (couchdb): POST http://couchdb.db:5984/jobs/_find: the server answered 401 Unauthorized: the server refused the credentials of authModes basic: check them in the TriggerAuthentication (answer: {"error":"unauthorized","reason":"Name or password is incorrect."})`, CauseCredentials},
		{`trigger 0 (couchdb): POST http://couchdb.db:5984/orders/_find: the server answered 404 Not Found: check the path in metadata.host (answer: {"error":"not_found","reason":"Database does not exist."}): CouchDB has no database "orders": check dbName`, CauseNotFound},
		{`trigger 0 (couchdb): POST http://couchdb.db:5984/jobs/_find: could not reach the server: check metadata.host and that the server runs: dial tcp 10.0.0.9:5984: connect: connection refused`, CauseUnreachable},
		{`trigger 0 (pulsar): GET http://pulsar:8080/admin/v2/persistent/public/default/orders/stats: the server answered 401 Unauthorized: the server refused the credentials of authModes bearer: check them in the TriggerAuthentication (answer: <html> <h2>HTTP ERROR 401</h2> Authentication required </html>)`, CauseCredentials},
		{`trigger 0 (pulsar): GET http://pulsar:8080/admin/v2/persistent/public/default/nope/stats: the server answered 404 Not Found: check the path in metadata.adminURL (answer: {"reason":"Topic not found"}): Pulsar has no topic "public/default/nope": check metadata.topic (a partitioned topic needs isPartitionedTopic "true")`, CauseNotFound},
		{`trigger 0 (pulsar): GET http://pulsar:8080/admin/v2/persistent/public/default/orders/stats: subscription "billing" does not exist on the topic: check metadata.subscription (a consumer creates it when it first subscribes)`, CauseNotFound},
		{`trigger 0 (pulsar): GET http://pulsar:8080/admin/v2/persistent/public/default/orders/stats: could not reach the server: check metadata.adminURL and that the server runs: dial tcp 10.0.0.8:8080: connect: connection refused`, CauseUnreachable},
		{`trigger 0 (mongodb): could not count the documents of collection "jobs" of database "queue" on mongo.db:27017: MongoDB refused the credentials (connection() error occurred during connection handshake: auth error: unable to authenticate using mechanism "SCRAM-SHA-256": (AuthenticationFailed) Authentication failed.): check username and password (or connectionString), and that the user is defined in the database it authenticates against (dbName, or the connection string's authSource)`, CauseCredentials},
		{`trigger 0 (mongodb): could not count the documents of collection "jobs" of database "queue" on mongo.db:27017: MongoDB refused the command, not authorized ((Unauthorized) Command aggregate requires authentication): give credentials (username and password, or in connectionString) of a user with a role that reads the collection (read on dbName)`, CauseCredentials},
		{`trigger 0 (mongodb): could not count the documents of collection "jobs" of database "queue" on mongo.db:27017: could not reach the server: mongo.db:27017: dial tcp 10.0.0.11:27017: connect: connection refused: check host and port (or connectionString), and that the server runs`, CauseUnreachable},
		{`trigger 0 (mongodb): could not count the documents of collection "jobs" of database "queue" on mongo.db:27017: TLS failed: mongo.db:27017: tls: failed to verify certificate: x509: certificate signed by unknown authority: put the CA that signed the server's certificate in the TriggerAuthentication parameter ca (tls: enable), a client certificate in cert and key if the server asks for one, and check that the server serves TLS`, CauseCertificate},
		{`trigger 0 (mongodb): could not count the documents of collection "jobs" of database "queue" on mongo.db:27017: the server wants credentials, a client certificate it trusts: mongo.db:27017: connection(mongo.db:27017[-50]) incomplete read of message header: remote error: tls: certificate required: put one its CA signed in the TriggerAuthentication parameters cert and key (tls: enable)`, CauseCredentials},
		{`trigger 0 (mongodb): could not count the documents of collection "jobs" of database "queue" on mongo.db:27017: no answer within the trigger's timeout of 3s ((MaxTimeMSExpired) operation exceeded time limit): check that the server answers, and the query's cost (an index on the fields of metadata.query)`, CauseTimeout},
		{`trigger 0 (mongodb): could not look up the DNS SRV records of the mongodb+srv address: lookup _mongodb._tcp.cluster.example on 10.0.0.10:53: no such host: check host (or connectionString)`, CauseUnreachable},
		{`trigger 0 (mongodb): could not count the documents of collection "jobs" of database "queue" on mongo.db:27017: MongoDB refused the query ((BadValue) unknown operator: $nope): check metadata.query, a filter in MongoDB Extended JSON`, CauseRefused},
	} {
		if got := FailureCause(tc.msg); got != tc.want {
			t.Errorf("FailureCause(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}

func TestTriggerFailure(t *testing.T) {
	metric, msg, ok := TriggerFailure("trigger 1 (redis) metric s1-redis-jobs: dial tcp 127.0.0.1:1: connect: connection refused")
	if !ok || metric != "s1-redis-jobs" || msg != "dial tcp 127.0.0.1:1: connect: connection refused" {
		t.Errorf("TriggerFailure = %q, %q, %v", metric, msg, ok)
	}
	if _, _, ok := TriggerFailure("error getting metric for trigger"); ok {
		t.Error("a message the operator does not write was split")
	}
}

// TestFailingTriggerNamesItsCause: with the trigger's error at hand the finding names the cause in
// its title and carries the error, whose text says what to check.
func TestFailingTriggerNamesItsCause(t *testing.T) {
	in := Inputs{ScaledObject: readySO(), HPA: &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "keda-hpa-worker"}},
		Scale: &autoscalingv1.Scale{Spec: autoscalingv1.ScaleSpec{Replicas: 1}}, MetricsAPIAvailable: true}
	n := int32(4)
	in.ScaledObject.Status.Health = map[string]kedav1alpha1.HealthStatus{"s0-redis-jobs": {Status: kedav1alpha1.HealthStatusFailing, NumberOfFailures: &n}}
	in.TriggerErrors = map[string]string{"s0-redis-jobs": "dial tcp 127.0.0.1:1: connect: connection refused"}
	f := Diagnose(in)[0]
	if f.Title != "Trigger failing: s0-redis-jobs (source unreachable)" || f.Detail != "4 failure(s) in a row: dial tcp 127.0.0.1:1: connect: connection refused" {
		t.Errorf("first finding %+v", f)
	}
}
