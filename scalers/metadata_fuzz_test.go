package scalers

import (
	"maps"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/kedactl/kedactl/scalers/meta"
)

// The metadata fuzz target feeds every trigger type arbitrary metadata, TriggerAuthentication
// parameters and env through ValidateTrigger and ParseMetadata, online and offline. Whatever a
// manifest holds, parsing must end with an error or a usable config, never a panic.

// fuzzTriggerIndex is the trigger index of the fuzzed triggers: not 0, so that an error naming
// the wrong trigger shows.
const fuzzTriggerIndex = 3

// fuzzMetricTypeKey is a metadata key the decoder turns into spec.triggers[].metricType, which
// the cpu and memory triggers read.
const fuzzMetricTypeKey = "__metricType"

// decodeFuzzTrigger turns fuzz text into a trigger's metadata, TriggerAuthentication parameters
// and container env: one key=value per line; a line starting with @ is a TriggerAuthentication
// parameter, one starting with $ an env var. A key #n names the n-th of names (modulo their
// count), so that mutating a number reaches every real parameter name. \n in a value is a line
// break, for PEM texts.
func decodeFuzzTrigger(data string, names []string) (meta, auth, env map[string]string) {
	meta, auth, env = map[string]string{}, map[string]string{}, map[string]string{}
	for _, line := range strings.Split(data, "\n") {
		into := meta
		switch {
		case strings.HasPrefix(line, "@"):
			into, line = auth, line[1:]
		case strings.HasPrefix(line, "$"):
			into, line = env, line[1:]
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimPrefix(k, "#")); err == nil && strings.HasPrefix(k, "#") && len(names) > 0 {
			k = names[((n%len(names))+len(names))%len(names)]
		}
		into[k] = strings.ReplaceAll(v, `\n`, "\n")
	}
	return meta, auth, env
}

// fuzzTriggerSeeds are realistic triggers of each type, and known edge cases, in
// decodeFuzzTrigger's format.
var fuzzTriggerSeeds = map[string][]string{
	"redis": {
		"address=redis.default.svc:6379\nlistName=jobs\nlistLength=5\n@password=hunter2-secret-value",
		"host=redis\nport=6379\nlistName=jobs\nactivationListLength=-1",
		"addressFromEnv=REDIS\nlistName=jobs\n$REDIS=redis:6379",
		"address=redis:6379\nlistName= \nenableTLS=true\n@tls=disable",
		"address=[::1]:0\nlistName=jobs\ndatabaseIndex=99999999999999999999",
	},
	"redis-cluster":          {"addresses=a:6379,b:6379\nlistName=jobs", "hosts=a,b\nports=6379\nlistName=jobs", "hostsFromEnv=H\nports=1,2\nlistName=l\n$H=a,b"},
	"redis-sentinel":         {"addresses=s1:26379\nsentinelMaster=mymaster\nlistName=jobs\n@sentinelPassword=sentinel-secret-xyz"},
	"redis-streams":          {"address=redis:6379\nstream=orders\nconsumerGroup=g\nlagCount=10", "address=redis:6379\nstream=orders\npendingEntriesCount=0\nconsumerGroup=g"},
	"redis-cluster-streams":  {"addresses=a:1,b:2\nstream=s\nstreamLength=100"},
	"redis-sentinel-streams": {"addresses=a:1\nsentinelMaster=m\nstream=s\nconsumerGroup=g"},
	"cron": {
		"timezone=Europe/Paris\nstart=0 8 * * *\nend=0 18 * * 1-5\ndesiredReplicas=3",
		"timezone=Etc/UTC\nstart=TZ=UTC\nend=0 1 * * *\ndesiredReplicas=1",
		"timezone=../../etc/passwd\nstart=*/0 * * * *\nend=@daily\ndesiredReplicas=-1",
	},
	"postgresql": {
		"host=pg\nport=5432\nuserName=keda\ndbName=jobs\nsslmode=disable\nquery=SELECT COUNT(*) FROM jobs\ntargetQueryValue=5\n@password=pg-secret-password",
		"connectionFromEnv=PG\nquery=SELECT 1\ntargetQueryValue=NaN\n$PG=postgres://u:pw-secret-0123456@h/db",
	},
	"mysql": {
		"host=mysql\nport=3306\nusername=root\ndbName=jobs\nquery=SELECT COUNT(*) FROM jobs\nqueryValue=4\n@password=mysql-secret-password",
		"connectionStringFromEnv=DSN\nquery=SELECT 1\nqueryValue=1e309\n$DSN=root:pw@tcp(h:3306)/db",
	},
	"prometheus": {
		"serverAddress=http://prometheus.monitoring:9090\nquery=sum(rate(http_requests_total[2m]))\nthreshold=100\nactivationThreshold=5",
		"serverAddress=http://p:9090/select/0/prometheus\nquery=up\nthreshold=Inf\ncustomHeaders=X-A=1,(bad)=2,x y=3\nqueryParameters=a=1,=2",
		"serverAddress=https://p\nquery=up\nthreshold=1\nauthModes=bearer,basic\n@bearerToken=bearer-secret-token-1",
		"serverAddress=http://p\nquery=up\nthreshold=9e18\ntimeout=-5\nauthModes=oauth\n@oauthTokenURI=http://a/t\n@clientID=c\n@endpointParams=%zz",
	},
	"metrics-api": {
		"url=http://api.jobs:8080/api/v1/stats\nvalueLocation=components.worker.tasks\ntargetValue=8.8",
		"url=http://api\nformat=prometheus\nvalueLocation=queue_size{queue=\"jobs\", instance='a\\'b'}\ntargetValue=1",
		"url=http://api\nformat=xml\nvalueLocation=a.0.b\ntargetValue=NaN\nauthMode=apiKey\nmethod=query\n@apiKey=api-key-secret-value",
		"url=http://api\nformat=prometheus\nvalueLocation={__name__=`x`,a=\"\\q\"}\ntargetValue=1",
	},
	"nats-jetstream": {
		"natsServerMonitoringEndpoint=nats.nats.svc:8222\naccount=$G\nstream=orders\nconsumer=worker\nlagThreshold=10",
		"natsServerMonitoringEndpoint=[::1]:8222\naccountID=ABC\nstream=s\nconsumer=c\nlagThreshold=0\nuseHttps=true",
		"@natsServerMonitoringEndpoint=nats:8222/x\naccount=a\nstream=s\nconsumer=c",
	},
	"external":      {"scalerAddress=external-scaler.keda:6000\nqueue=q", "scalerAddress=dns:///scaler:6000\nenableTLS=true\n@caCert=-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----"},
	"external-push": {"scalerAddress=scaler:6000\n@tlsClientKey=client-key-secret-value"},
	"rabbitmq": {
		"host=amqp://guest:guest-secret-pw@rabbitmq.default:5672/vhost\nqueueName=jobs\nmode=QueueLength\nvalue=20",
		"hostFromEnv=RABBIT\nqueueName=j.*\nuseRegex=true\noperation=max\npageSize=0\nmode=MessageRate\nvalue=1\n$RABBIT=http://u:p-secret-12345@r:15672/%2F",
		"host=http://r:15672/%zz\nqueueName=q\nqueueLength=5\nvalue=3\n@username=u",
		"@host=amqps://r/vh\nqueueName=q\n@tls=enable\n@cert=x\n@username=a\n@password=b-secret-password",
	},
	"kafka": {
		"bootstrapServers=kafka:9092\nconsumerGroup=g\ntopic=orders\nlagThreshold=50",
		"bootstrapServers=kafka:9092\nconsumerGroup=g\ntopic=orders\npartitionLimitation=0,2,5-8\nsasl=plaintext\n@username=u\n@password=kafka-secret-password",
		"bootstrapServers=kafka:9092\nconsumerGroup=g\ntopic=t\npartitionLimitation=0-2147483647",
		"bootstrapServersFromEnv=BS\nconsumerGroupFromEnv=G\n$BS=a:1,b:2\n$G=g\ntls=enable\n@tls=disable",
	},
	"apache-kafka": {"bootstrapServers=kafka:9092\nconsumerGroup=g\ntopic=a,b\nlagThreshold=5\nensureEvenDistributionOfPartitions=true", "bootstrapServers=,\nconsumerGroup=g\nsasl=gssapi"},
	"cpu":          {"__metricType=Utilization\nvalue=60", "type=AverageValue\nvalue=500m\ncontainerName=app", "__metricType=Value\nvalue=1"},
	"memory":       {"__metricType=AverageValue\nvalue=256Mi", "type=Utilization\nvalue=99999999999"},
	"kubernetes-workload": {
		"podSelector=app=backend\nvalue=2\nactivationValue=1",
		"podSelector=app in (a,b),tier notin (batch)\nvalue=0.5\ngroupByNode=true",
		"podSelector=\nvalue=1",
	},
	"mongodb": {
		"dbName=queue\ncollection=jobs\nquery={\"status\": \"queued\"}\nqueryValue=5\n@connectionString=mongodb://keda:mongo-secret-pw@mongo:27017/queue",
		"host=::1\nport=27017\nusername=u\ndbName=d\ncollection=c.d\nquery={\"n\": {\"$numberLong\": \"x\"}}\nqueryValue=0.5\npasswordFromEnv=PW\n$PW=p@ss%",
		"scheme=mongodb+srv\nhost=cluster.example\nusername=u\n@password=pw-secret-0123456\ndbName=d\ncollection=c\nquery={}\nqueryValue=1\n@tls=enable\n@ca=x",
	},
}

func FuzzValidateTrigger(f *testing.F) {
	types := Types()
	for i, typ := range types {
		for _, seed := range fuzzTriggerSeeds[typ] {
			f.Add(uint8(i), seed)
		}
		f.Add(uint8(i), "")
		f.Add(uint8(i), "#0=x\n#1=\n#2= \n#3=-1\n#4=NaN\n#5=1e400\n@#6=true\n$E=v\n#7FromEnv=E")
	}
	fields := map[string][]meta.Field{}
	names := map[string][]string{}
	for _, typ := range types {
		fs, err := new(meta.Parser).Fields(reflect.TypeOf(metadataOf(typ)))
		if err != nil {
			f.Fatal(err)
		}
		fields[typ] = fs
		for _, fld := range fields[typ] {
			names[typ] = append(names[typ], fld.Param.Name)
		}
	}
	f.Fuzz(func(t *testing.T, typeIndex uint8, data string) {
		typ := types[int(typeIndex)%len(types)]
		meta, auth, env := decodeFuzzTrigger(data, names[typ])
		metricType := meta[fuzzMetricTypeKey]
		delete(meta, fuzzMetricTypeKey)
		metaIn, authIn, envIn := maps.Clone(meta), maps.Clone(auth), maps.Clone(env)
		cfg := func(offline bool) *Config {
			return &Config{TriggerIndex: fuzzTriggerIndex, TriggerType: typ, TriggerName: "fz", TriggerMetadata: meta, AuthParams: auth,
				ResolvedEnv: env, MetricType: autoscalingv2.MetricTargetType(metricType), Offline: offline}
		}
		online := checkParse(t, typ, cfg(false), fields[typ])
		offline := checkParse(t, typ, cfg(true), fields[typ])
		// Offline validation only relaxes: what a cluster accepts, kubectl keda check accepts too.
		if online == nil && offline != nil {
			t.Errorf("%s: valid online but not offline: %v\nmetadata %q auth %q env %q", typ, offline, meta, auth, env)
		}
		if !maps.Equal(meta, metaIn) || !maps.Equal(auth, authIn) || !maps.Equal(env, envIn) {
			t.Errorf("%s: parsing changed the trigger's maps", typ)
		}
	})
}

// checkParse validates cfg twice through ValidateTrigger and once through ParseMetadata and
// checks what they agree on: the same outcome each time, errors that name the trigger and show
// no secret, and, on success, a config whose required parameters are set and whose numbers are
// finite.
func checkParse(t *testing.T, typ string, cfg *Config, fields []meta.Field) error {
	t.Helper()
	err := ValidateTrigger(cfg)
	if again := ValidateTrigger(cfg); errText(again) != errText(err) {
		t.Fatalf("%s (offline %t): parsing twice gave %q, then %q", typ, cfg.Offline, errText(err), errText(again))
	}
	target := reflect.New(reflect.TypeOf(metadataOf(typ)))
	if perr := ParseMetadata(cfg, target.Interface()); errText(perr) != errText(err) {
		t.Fatalf("%s (offline %t): ValidateTrigger said %q, ParseMetadata %q", typ, cfg.Offline, errText(err), errText(perr))
	}
	if err != nil {
		prefix := "trigger " + strconv.Itoa(fuzzTriggerIndex) + " (" + typ
		if !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("%s: error %q does not start with %q", typ, err, prefix)
		}
		checkNoSecret(t, typ, cfg, fields, err)
		return err
	}
	v := target.Elem()
	for _, fld := range fields {
		fv := v.FieldByIndex(fld.Index)
		switch fv.Kind() {
		case reflect.Float32, reflect.Float64:
			if x := fv.Float(); math.IsNaN(x) || math.IsInf(x, 0) {
				t.Errorf("%s (offline %t): %s parsed as %g", typ, cfg.Offline, fld.Param.Name, x)
			}
		case reflect.String, reflect.Slice:
			required := !fld.Param.Optional && !fld.Param.HasDefault
			if required && !cfg.Offline && fv.Len() == 0 {
				t.Errorf("%s: required %s is empty after a successful parse of metadata %q auth %q env %q", typ, fld.Param.Name, cfg.TriggerMetadata, cfg.AuthParams, cfg.ResolvedEnv)
			}
		}
	}
	return nil
}

// checkNoSecret fails when err shows the value of a secret parameter. A value the error's
// wording itself contains (one word of a fix, say) is no leak: it shows up as well when the
// secret is replaced.
func checkNoSecret(t *testing.T, typ string, cfg *Config, fields []meta.Field, err error) {
	t.Helper()
	for _, fld := range fields {
		if !fld.Param.Secret {
			continue
		}
		for _, src := range []map[string]string{cfg.AuthParams, cfg.TriggerMetadata, cfg.ResolvedEnv} {
			for k, secret := range src {
				if len(secret) < 8 || !strings.Contains(err.Error(), secret) || !isSecretSource(cfg, fld.Param, src, k) {
					continue
				}
				if shownElsewhere(cfg, secret, k) {
					continue
				}
				masked := *cfg
				masked.AuthParams, masked.TriggerMetadata, masked.ResolvedEnv = maps.Clone(cfg.AuthParams), maps.Clone(cfg.TriggerMetadata), maps.Clone(cfg.ResolvedEnv)
				maskValue(&masked, src, k)
				if merr := ValidateTrigger(&masked); merr != nil && strings.Contains(merr.Error(), secret) {
					continue
				}
				t.Errorf("%s: error %q shows secret %s", typ, err, fld.Param.Name)
			}
		}
	}
}

// isSecretSource reports whether src[k] is where the secret parameter p may be read from.
func isSecretSource(cfg *Config, p meta.Param, src map[string]string, k string) bool {
	for _, o := range p.Order {
		switch {
		case o == SourceAuthParams && sameMap(src, cfg.AuthParams) && k == p.Name,
			o == SourceTriggerMetadata && sameMap(src, cfg.TriggerMetadata) && k == p.Name,
			o == SourceResolvedEnv && sameMap(src, cfg.ResolvedEnv) && cfg.TriggerMetadata[p.Name+"FromEnv"] == k:
			return true
		}
	}
	return false
}

// shownElsewhere reports whether secret is also a key or the value of another key, which an
// error may show.
func shownElsewhere(cfg *Config, secret, key string) bool {
	for _, m := range []map[string]string{cfg.AuthParams, cfg.TriggerMetadata, cfg.ResolvedEnv} {
		for k, v := range m {
			if strings.Contains(k, secret) || (k != key && strings.Contains(v, secret)) {
				return true
			}
		}
	}
	return false
}

func maskValue(cfg *Config, src map[string]string, k string) {
	for _, m := range []map[string]string{cfg.AuthParams, cfg.TriggerMetadata, cfg.ResolvedEnv} {
		if v, ok := m[k]; ok && v == src[k] {
			m[k] = strings.Repeat("x", len(v))
		}
	}
}

func sameMap(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// TestDecodeFuzzTrigger pins the fuzz input format the seed corpus files are written in.
func TestDecodeFuzzTrigger(t *testing.T) {
	meta, auth, env := decodeFuzzTrigger("a=1\n@b=2=3\n$C=x\\ny\n#-1=z\nno equals\n#1=w", []string{"p0", "p1"})
	if !maps.Equal(meta, map[string]string{"a": "1", "p1": "w"}) {
		t.Errorf("meta %q", meta)
	}
	if auth["b"] != "2=3" || env["C"] != "x\ny" {
		t.Errorf("auth %q env %q", auth, env)
	}
}
