package scalers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"

	"github.com/kedactl/kedactl/scalers/meta"
)

// mongoDBScaler counts the documents of a collection that match the trigger's query, with one
// countDocuments (an aggregate of $match and $group) per poll, on a client shared by every
// trigger with the same connection.
type mongoDBScaler struct {
	cfg        *Config
	meta       meta.MongoDBMetadata
	client     *mongo.Client
	release    func()
	filter     bson.D
	metricName string
	// source names the collection for errors ("collection "jobs" of database "queue" on
	// mongo:27017"); it never holds a password.
	source  string
	secrets []string
}

// One client shared by many triggers: a poll holds a connection for one aggregate, so four let
// four polls of one server run at once; more wait their turn, within their timeout. The driver's
// default of 100 is for applications.
const mongoDBMaxPoolSize = 4

// mongoDBDisconnectTimeout bounds the goodbye to the servers when the last trigger of a client
// leaves; the sockets are closed at its end whatever they answered.
const mongoDBDisconnectTimeout = 5 * time.Second

func newMongoDBScaler(_ context.Context, cfg *Config) (Scaler, error) {
	s := &mongoDBScaler{cfg: cfg}
	if err := ParseMetadata(cfg, &s.meta); err != nil {
		return nil, err
	}
	m := &s.meta
	// Longest first: a connection string goes whole before the password inside it.
	s.secrets = []string{m.ConnectionString, m.URI, m.Password, m.KeyPassword}
	slices.SortFunc(s.secrets, func(a, b string) int { return len(b) - len(a) })
	// What only the driver's parsers refuse (a query that is no canonical Extended JSON, a
	// connection string it cannot read) fails the build, naming the parameter.
	filter, err := mongoDBFilter(m.Query)
	if err != nil {
		return nil, identify(cfg, err)
	}
	s.filter = filter
	// Parsed out of the pool's lock: a mongodb+srv address is looked up in DNS here.
	opts := options.Client().ApplyURI(m.URI)
	if err := opts.Validate(); err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			// A mongodb+srv address whose SRV records could not be read: the host, not the
			// string's syntax, is what to check.
			return nil, redact(fmt.Errorf("%s: could not look up the DNS SRV records of the mongodb+srv address: %w: check host (or connectionString)", triggerWho(cfg), dnsErr), s.secrets)
		}
		return nil, identify(cfg, meta.MongoDBConnectionError())
	}
	if m.TLSConfig != nil {
		opts.SetTLSConfig(m.TLSConfig)
	}
	if opts.MaxPoolSize == nil {
		opts.SetMaxPoolSize(mongoDBMaxPoolSize)
	}
	s.source = fmt.Sprintf("collection %q of database %q on %s", m.Collection, m.DBName, mongoDBHosts(opts))
	identity := []any{m.URI, m.TLS, m.CA, m.Cert, m.Key, m.KeyPassword}
	s.client, s.release, err = acquirePooled(cfg.Clients, "mongodb", identity, func() (*mongo.Client, func(), error) {
		// Connect dials nothing itself: the driver's monitors connect in the background, and
		// the first operation waits for a server.
		c, err := mongo.Connect(opts)
		if err != nil {
			return nil, nil, err
		}
		return c, func() {
			ctx, cancel := context.WithTimeout(context.Background(), mongoDBDisconnectTimeout)
			defer cancel()
			_ = c.Disconnect(ctx)
		}, nil
	})
	if err != nil {
		return nil, redact(fmt.Errorf("%s: could not set up the MongoDB client for %s: %w", triggerWho(cfg), s.source, err), s.secrets)
	}
	// KEDA names it s<index>-mongodb-<collection>.
	s.metricName = MetricName(cfg.TriggerIndex, "mongodb-"+m.Collection)
	return s, nil
}

// mongoDBFilter reads the query as KEDA does: canonical Extended JSON into a document, which
// must have a field. It runs when the trigger is built, not as a driver check of ValidateTrigger:
// meta's check would have to refuse the same (see entry.check), and it reads plain JSON only.
func mongoDBFilter(query string) (bson.D, error) {
	var doc bson.D
	if err := bson.UnmarshalExtJSON([]byte(query), true, &doc); err != nil {
		return nil, meta.MongoDBQueryError("is not MongoDB canonical Extended JSON: " + meta.Clip(err.Error(), 200))
	}
	if len(doc) == 0 {
		return nil, meta.MongoDBQueryError("is an empty document, which KEDA refuses")
	}
	return doc, nil
}

// mongoDBHosts lists the connection's hosts (for a mongodb+srv one, those DNS gave), for errors.
func mongoDBHosts(opts *options.ClientOptions) string {
	if len(opts.Hosts) == 0 {
		return "(no host)"
	}
	return meta.Clip(strings.Join(opts.Hosts, ","), 200)
}

func (s *mongoDBScaler) GetMetricSpecForScaling(context.Context) []autoscalingv2.MetricSpec {
	return oneMetricSpec(s.cfg, s.metricName, s.meta.QueryValue)
}

// GetMetricsAndActivity counts the matching documents once, within the trigger's timeout; the
// trigger is active when there are more than activationQueryValue. A collection or database
// that does not exist counts 0, as MongoDB answers and KEDA reports.
func (s *mongoDBScaler) GetMetricsAndActivity(ctx context.Context, metricName string) ([]external_metrics.ExternalMetricValue, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	n, err := s.client.Database(s.meta.DBName).Collection(s.meta.Collection).CountDocuments(ctx, s.filter)
	if err != nil {
		return nil, false, s.failure(ctx, err)
	}
	if n < 0 {
		// MongoDB counts nothing below 0; another server on the port might answer so, and a
		// negative value would read as no backlog.
		return nil, false, fmt.Errorf("%s: the count of %s is %d, which no count can be: check that the address is a MongoDB server", triggerWho(s.cfg), s.source, n)
	}
	v := float64(n)
	return oneMetricValue(metricName, v), v > s.meta.ActivationQueryValue, nil
}

func (s *mongoDBScaler) Close(context.Context) error {
	s.release()
	return nil
}

// failure words a failed count: the trigger, the collection, the cause and what to check.
// Passwords are removed from the text.
func (s *mongoDBScaler) failure(ctx context.Context, err error) error {
	why := mongoDBFailure(err, ctx.Err() != nil, s.cfg.Timeout)
	return redact(fmt.Errorf("%s: could not count the documents of %s: %s", triggerWho(s.cfg), s.source, why), s.secrets)
}
