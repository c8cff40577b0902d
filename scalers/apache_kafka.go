package scalers

import (
	"context"

	"github.com/kedactl/kedactl/scalers/meta"
)

func newApacheKafkaScaler(_ context.Context, cfg *Config) (Scaler, error) {
	var m meta.ApacheKafkaMetadata
	if err := parseKafkaMetadata(cfg, &m); err != nil {
		return nil, err
	}
	return newKafkaLagScaler(cfg, m.Trigger)
}
