package scalers

import (
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/kedactl/kedactl/scalers/meta"
)

// meta judges connection strings without the drivers (for kubectl keda check); on the documented
// forms, valid and broken, its verdict must be the driver's.
func TestSQLConnectionVerdictsMatchDrivers(t *testing.T) {
	postgres := []string{
		"postgres://u:p@db.example:5432/jobs?sslmode=disable",
		"postgresql://db.example/jobs",
		"postgres://u:p@h1:5432,h2:5433/jobs?sslmode=require",
		"host=db.example port=5432 user=keda dbname=jobs sslmode=disable password='it''s'",
		`host=db port=5432 user=u dbname=d sslmode=verify-full password='a \'b\' c'`,
		"host = db  port=5432",
		"postgres://u:p@db:notaport/jobs",
		"postgres://db/jobs?sslmode=sometimes",
		"host=db port=54x",
		"host=db sslmode=sometimes",
		"host='db port=5432",
		"host",
	}
	for _, s := range postgres {
		m := &meta.PostgresqlMetadata{}
		cfg := &Config{TriggerType: "postgresql", TriggerMetadata: map[string]string{"query": "q", "targetQueryValue": "1"}, AuthParams: map[string]string{"connection": s}}
		metaErr := ParseMetadata(cfg, m)
		_, driverErr := pgx.ParseConfig(s)
		if (metaErr == nil) != (driverErr == nil) {
			t.Errorf("postgresql %q: meta says %v, pgx says %v", s, metaErr, driverErr)
		}
	}
	mysqlDSNs := []string{
		"u:p@tcp(db.example:3306)/jobs",
		"u:p@tcp(db.example:3306)/jobs?tls=skip-verify&timeout=5s",
		"u@unix(/var/run/mysqld/mysqld.sock)/jobs",
		"/jobs",
		"u:p@/jobs",
		"u:p@tcp(h:1)",
		"u:p@tcp(h:1/jobs",
		"u:p@tcp(h:1)/jobs?timeout",
		"u:p@tcp(h:1)/jobs?timeout=5s&x=%zz",
	}
	for _, s := range mysqlDSNs {
		m := &meta.MysqlMetadata{}
		cfg := &Config{TriggerType: "mysql", TriggerMetadata: map[string]string{"query": "q", "queryValue": "1"}, AuthParams: map[string]string{"connectionString": s}}
		metaErr := ParseMetadata(cfg, m)
		_, driverErr := mysql.ParseDSN(s)
		if (metaErr == nil) != (driverErr == nil) {
			t.Errorf("mysql %q: meta says %v, the driver says %v", s, metaErr, driverErr)
		}
	}
}

func TestAMQPHostVerdictsMatchClient(t *testing.T) {
	hosts := []string{
		"amqp://guest:password@rabbitmq.default:5672/vhost",
		"amqps://u:p@rabbitmq:5671/",
		"amqp://rabbitmq",
		"amqp://u:p@rabbitmq:5672/%2Fprod?heartbeat=10&connection_timeout=5000",
		"amqp://rabbitmq:notaport/v",
		"amqp://rabbitmq:5672/v?heartbeat=often",
		"amqp://rabbit mq:5672/v",
		"amqp://u:p%zz@rabbitmq/v",
	}
	for _, h := range hosts {
		m := &meta.RabbitMQMetadata{}
		cfg := &Config{TriggerType: "rabbitmq", TriggerMetadata: map[string]string{"queueName": "q", "host": h}}
		metaErr := ParseMetadata(cfg, m)
		_, clientErr := amqp.ParseURI(h)
		if (metaErr == nil) != (clientErr == nil) {
			t.Errorf("rabbitmq host %q: meta says %v, the AMQP client says %v", h, metaErr, clientErr)
		}
	}
}

// meta checks how a Kafka version is written; which releases exist the client library knows, so
// a well-formed release it does not know (9.9.9) is refused only where the library is linked.
func TestKafkaVersionVerdictsMatchClient(t *testing.T) {
	for _, v := range []string{"1.0.0", "2.8.1", "3.7.0", "v3.7", "0.11.0.2", "0.10.2", "latest", "2.8.x", "3"} {
		cfg := &Config{TriggerType: "kafka", TriggerMetadata: map[string]string{"bootstrapServers": "b:9092", "consumerGroup": "g", "topic": "t", "version": v}}
		metaErr := ParseMetadata(cfg, &meta.KafkaMetadata{})
		known := kversion.FromString(v) != nil
		if (metaErr == nil) != known {
			t.Errorf("kafka version %q: meta says %v, the client knows it: %v", v, metaErr, known)
		}
	}
	cfg := &Config{TriggerType: "kafka", TriggerMetadata: map[string]string{"bootstrapServers": "b:9092", "consumerGroup": "g", "topic": "t", "version": "9.9.9"}}
	if err := ValidateTrigger(cfg); err == nil {
		t.Error("version 9.9.9 passed the check with the client library")
	}
}
