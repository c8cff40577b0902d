package scalers

import (
	"encoding/binary"
	"math"
	"math/big"
	"testing"

	"github.com/kedactl/kedactl/scalers/meta"
)

// decodeFuzzOffsets turns fuzz bytes into what a poll reads of a topic's partitions: 16 bytes
// each, the committed offset then the end offset, big-endian; a committed offset below 0 is
// "none".
func decodeFuzzOffsets(data []byte) []kafkaPartitionOffsets {
	var out []kafkaPartitionOffsets
	for i := 0; len(data) >= 16 && i < 1024; i++ {
		out = append(out, kafkaPartitionOffsets{topic: "t", partition: int32(i),
			committed: int64(binary.BigEndian.Uint64(data[:8])), end: int64(binary.BigEndian.Uint64(data[8:16]))})
		data = data[16:]
	}
	return out
}

func encodeFuzzOffsets(pairs ...int64) []byte {
	var b []byte
	for _, v := range pairs {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	return b
}

// FuzzKafkaLag feeds arbitrary offsets, as brokers report them, through two polls of the lag
// rules (the second sees the first's committed offsets, for excludePersistentLag), with every
// combination of options: the lag is never negative, and the replicas it asks for stay within
// the partitions unless allowIdleConsumers lifts the cap.
func FuzzKafkaLag(f *testing.F) {
	f.Add(uint8(0), int64(10), encodeFuzzOffsets(5, 8, 0, 4, 9, 9), encodeFuzzOffsets(5, 9, 1, 4, 9, 9))
	f.Add(uint8(1<<2), int64(10), encodeFuzzOffsets(-1, 50, -1, 0), encodeFuzzOffsets(-1, 60, 3, 3))
	f.Add(uint8(1<<4), int64(10), encodeFuzzOffsets(3, 8, 0, 4), encodeFuzzOffsets(3, 9, 2, 4))
	f.Add(uint8(1<<5), int64(10), encodeFuzzOffsets(0, 41, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), []byte{})
	f.Add(uint8(0), int64(1), encodeFuzzOffsets(100, 5), []byte{})                                      // committed past the end
	f.Add(uint8(1), int64(1), encodeFuzzOffsets(0, math.MaxInt64, 0, math.MaxInt64), []byte{})          // the sum overflows
	f.Add(uint8(1<<5), int64(math.MaxInt64), encodeFuzzOffsets(0, math.MaxInt64, 0, 1, 0, 1), []byte{}) // divisor × threshold overflows
	f.Add(uint8(1<<2), int64(3), encodeFuzzOffsets(-1, -7), []byte{})
	f.Add(uint8(0), int64(2), encodeFuzzOffsets(math.MinInt64+1, math.MaxInt64), []byte{})
	f.Fuzz(func(t *testing.T, flags uint8, threshold int64, first, second []byte) {
		if threshold <= 0 {
			return // the metadata refuses it
		}
		p := meta.KafkaLagParams{LagThreshold: threshold, OffsetResetPolicy: "latest",
			AllowIdleConsumers: flags&1 != 0, ScaleToZeroOnInvalidOffset: flags&2 != 0, ExcludePersistentLag: flags&8 != 0,
			LimitToPartitionsWithLag: flags&16 != 0, EnsureEvenDistributionOfPartitions: flags&32 != 0}
		if flags&4 != 0 {
			p.OffsetResetPolicy = "earliest"
		}
		if (p.AllowIdleConsumers && p.LimitToPartitionsWithLag) || (p.LimitToPartitionsWithLag && p.EnsureEvenDistributionOfPartitions) {
			return // the metadata refuses these pairs
		}
		s := &kafkaScaler{t: &meta.KafkaTrigger{KafkaLagParams: p}, previous: map[string]map[int32]int64{}}
		for _, data := range [][]byte{first, second} {
			offsets := decodeFuzzOffsets(data)
			got := s.lag(offsets)
			if got.metric < 0 || got.withPersistent < 0 {
				t.Fatalf("offsets %+v: lag %+v", offsets, got)
			}
			if p.AllowIdleConsumers && !p.EnsureEvenDistributionOfPartitions {
				continue
			}
			// At most one replica per partition, as KEDA counts it: metric / threshold, in whole
			// numbers, is at most the partitions (so the HPA, which rounds up, may ask for one
			// more replica: 49 at 24 a replica on 2 partitions).
			limit := new(big.Int).Mul(big.NewInt(int64(len(offsets))+1), big.NewInt(threshold))
			if big.NewInt(got.metric).Cmp(limit) >= 0 {
				t.Fatalf("offsets %+v, threshold %d: metric %d asks for more replicas than the %d partitions", offsets, threshold, got.metric, len(offsets))
			}
		}
	})
}
