package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/kedactl/kedactl/scalers"
)

// shareKey identifies triggers that send their source the same request, so one poll serves them
// all: the same type, namespace, metric type, metadata, authentication parameters, timeout, and
// only the env vars the metadata names (a ...FromEnv key), not the whole container env. Scalers
// whose request names the object (external) also key on the object. Index and name are left out:
// they only name the metric. (encoding/json writes map keys in order, so the encoding is
// stable.) The key is an HMAC under a per-engine secret, so it never carries a
// credential in clear.
func (e *Engine) shareKey(cfg *scalers.Config) string {
	env := map[string]*string{}
	for k, name := range cfg.TriggerMetadata {
		if strings.HasSuffix(k, "FromEnv") && name != "" {
			if v, ok := cfg.ResolvedEnv[name]; ok {
				env[name] = &v
			} else {
				env[name] = nil
			}
		}
	}
	identity := []any{cfg.TriggerType, cfg.ScalableObjectNamespace, cfg.MetricType, cfg.TriggerMetadata, cfg.AuthParams, env, cfg.Timeout.String(), cfg.AsMetricSource}
	if scalers.RequestNamesObject(cfg.TriggerType) {
		identity = append(identity, cfg.ScalableObjectType, cfg.ScalableObjectName)
	}
	mac := hmac.New(sha256.New, e.shareSecret)
	_ = json.NewEncoder(mac).Encode(identity)
	return hex.EncodeToString(mac.Sum(nil))
}
